//! The grader's life: errors when Docker or the image is missing, the bounded queue, removal of
//! containers on cancellation, the reaper after a crash, and the checker parity with the domain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use domain::grading::{outputs_match, GradeError, Grader, Verdict};
use domain::task::Checker;
use sandbox::{DockerGrader, LazyGrader, SandboxConfig, SandboxError};
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_unreachable_docker_engine_gives_a_clear_unavailable_error() {
    let config = SandboxConfig {
        docker_host: Some("unix:///nonexistent/campus-test-docker.sock".into()),
        ..test_config()
    };
    let err = DockerGrader::connect(config)
        .await
        .err()
        .expect("connecting to a bogus socket fails");
    assert!(
        matches!(err, SandboxError::DockerUnavailable { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("not running") && text.contains("scripts/setup-docker"),
        "{text}"
    );
    assert!(matches!(GradeError::from(err), GradeError::Unavailable(_)));
}

#[tokio::test]
async fn a_missing_image_names_the_build_script() {
    let config = SandboxConfig {
        image: "campus-sandbox:no-such-tag".into(),
        ..test_config()
    };
    let err = DockerGrader::connect(config)
        .await
        .err()
        .expect("a missing image is an error");
    assert!(matches!(err, SandboxError::ImageMissing { .. }), "{err:?}");
    assert!(
        err.to_string().contains("scripts/build-sandbox-image"),
        "{err}"
    );
    assert!(matches!(GradeError::from(err), GradeError::Unavailable(_)));
}

/// A server started before the engine: the lazy grader answers "unavailable" (remembering the
/// failure between tries), then grades once the engine shows up at its address, no restart.
#[tokio::test]
async fn a_lazy_grader_starts_grading_once_the_engine_appears() {
    let dir = std::env::temp_dir().join(format!("campus-lazy-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("docker.sock");
    let config = SandboxConfig {
        docker_host: Some(format!("unix://{}", socket.display())),
        ..test_config()
    };
    let retry = Duration::from_secs(2);
    let lazy = LazyGrader::new(config, retry);
    let first = Instant::now();
    assert!(matches!(
        lazy.ready().await,
        Err(GradeError::Unavailable(_))
    ));
    assert!(!lazy.is_connected());
    let task = io_task("hi");
    assert!(matches!(
        lazy.grade("print('hi')", &task).await,
        Err(GradeError::Unavailable(_))
    ));

    // The engine appears at the grader's address.
    let real = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(String::from))
        .unwrap_or_else(|| "/var/run/docker.sock".into());
    std::os::unix::fs::symlink(&real, &socket).unwrap();
    if first.elapsed() < retry {
        // Within the retry interval the remembered failure is answered without a new try.
        assert!(lazy.ready().await.is_err());
        assert!(!lazy.is_connected());
    }
    tokio::time::sleep(retry.saturating_sub(first.elapsed()) + Duration::from_millis(100)).await;
    lazy.ready()
        .await
        .expect("connects once the engine is there (is Docker running? scripts/setup-docker)");
    assert!(lazy.is_connected());
    let report = lazy.grade("print('hi')", &task).await.unwrap();
    assert_verdict(&report, Verdict::Accepted);
    lazy.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

fn sleeper() -> domain::task::CodeTask {
    let mut t = io_task("done");
    t.limits.time_ms = 10_000;
    t
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_full_queue_answers_busy_at_once() {
    let g = grader_with(SandboxConfig {
        max_concurrent: 1,
        queue_capacity: 0,
        ..test_config()
    })
    .await;
    let first = {
        let g = g.clone();
        tokio::spawn(async move {
            g.grade("import time\ntime.sleep(1.5)\nprint('done')\n", &sleeper())
                .await
        })
    };
    wait_until("the first run is admitted", || g.in_flight() == 1).await;
    let started = Instant::now();
    let second = g.grade("print('done')\n", &io_task("done")).await;
    assert!(matches!(second, Err(GradeError::Busy)), "{second:?}");
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "busy must not wait: {:?}",
        started.elapsed()
    );
    let first = first.await.unwrap().unwrap();
    assert_verdict(&first, Verdict::Accepted);
}

#[tokio::test]
async fn a_submission_waits_in_the_queue_when_there_is_room() {
    let g = grader_with(SandboxConfig {
        max_concurrent: 1,
        queue_capacity: 1,
        ..test_config()
    })
    .await;
    let a = {
        let g = g.clone();
        tokio::spawn(async move {
            g.grade("import time\ntime.sleep(0.5)\nprint('done')\n", &sleeper())
                .await
        })
    };
    wait_until("the first run is admitted", || g.in_flight() == 1).await;
    let b = g.grade("print('done')\n", &io_task("done")).await.unwrap();
    assert_verdict(&b, Verdict::Accepted);
    assert_verdict(&a.await.unwrap().unwrap(), Verdict::Accepted);
}

#[tokio::test]
async fn a_cancelled_run_leaves_no_container() {
    let g = grader().await;
    let instance = format!("campus.instance={}", g.instance_id());
    let t = sleeper();
    let run = g.grade("import time\ntime.sleep(30)\n", &t);
    tokio::select! {
        _ = run => panic!("the run should not finish"),
        _ = async {
            // Wait until its container exists, then drop the future.
            while containers_with(&instance).await.is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        } => {}
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while !containers_with(&instance).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the cancelled run's container was not removed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const CHILD_ENV: &str = "CAMPUS_SANDBOX_TEST_CHILD";

/// Run twice: as the test (parent), and as a child process (env set) that starts a long run and
/// is killed with SIGKILL in the middle of it.
#[tokio::test]
async fn a_killed_process_leaves_no_container_after_the_next_start() {
    if std::env::var(CHILD_ENV).is_ok() {
        let g = grader_with(SandboxConfig {
            prestart: 2,
            ..test_config()
        })
        .await;
        println!("INSTANCE {}", g.instance_id());
        let _ = g.grade("import time\ntime.sleep(60)\n", &sleeper()).await;
        panic!("the child should have been killed mid-run");
    }
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_process_leaves_no_container_after_the_next_start",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let instance = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("INSTANCE ").map(str::to_string))
        .expect("the child printed its instance");
    let label = format!("campus.instance={instance}");
    let deadline = Instant::now() + Duration::from_secs(20);
    // Mid-run: its run's container is running (and its pool is there too).
    while running_with(&label).await.is_empty() {
        assert!(Instant::now() < deadline, "the child never started its run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().unwrap(); // SIGKILL: no destructor, no cleanup
    child.wait().unwrap();
    // A create request the child had in flight may still complete in the engine.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // (Other tests of this binary start graders too; any of their reapers may already have
    // removed the dead process's containers, which is just as good.)
    let g = grader().await; // reaps at start
                            // A neighbour's reaper may be removing the same containers right now (the engine then
                            // refuses a second removal), so allow the removals a moment to finish.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !containers_with(&label).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "a new start must remove every container of the dead process"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(g);
}

#[tokio::test]
async fn the_harness_checkers_agree_with_outputs_match() {
    let float = Checker::Float {
        abs: 1e-6,
        rel: 1e-9,
    };
    let cases: Vec<(Checker, &str, &str)> = vec![
        (Checker::Exact, "3\n", "3\n"),
        (Checker::Exact, "3\n", "3"),
        (Checker::Exact, "a b", "a  b"),
        (Checker::Lines, "3\n", "3   \n\n"),
        (Checker::Lines, "1\n2\n", "1\r\n2\r\n"),
        (Checker::Lines, "1\n2", "1\n\n2"),
        (Checker::Lines, "a", " a"),
        (Checker::Lines, "a", "a\u{a0}"),
        (Checker::Lines, "a", "a\u{3000}\n"),
        (Checker::Lines, "a", "a\u{1c}"),
        (Checker::Lines, "", "\n\n"),
        (Checker::Lines, "x\n", "x\r"),
        (Checker::Tokens, "1 2\n3", "1\n2 3\n"),
        (Checker::Tokens, "1 2", "1\u{2003}2"),
        (Checker::Tokens, "1 2", "1\u{1f}2"),
        (Checker::Tokens, "12", "1 2"),
        (float, "0.3333333", "0.33333333"),
        (float, "1.0", "1.1"),
        (float, "1 2", "1"),
        (float, "1e400", "inf"),
        (float, "nan", "nan"),
        (float, "inf", "INFINITY"),
        (float, "1000", "1_000"),
        (float, "5", "\u{665}"),
        (float, "0.5", "+.5"),
        (float, "5", "5."),
        (float, "1e5", "1E5"),
        (float, "16", "0x10"),
        (float, "0", "-0"),
        (float, "abc", "abc"),
        (float, "1e", "1e"),
        (
            Checker::Float {
                abs: 0.0,
                rel: 1e-3,
            },
            "1000000",
            "1000500",
        ),
        (
            Checker::Float {
                abs: 0.0,
                rel: 1e-3,
            },
            "1000000",
            "1002000",
        ),
    ];
    let tests = cases
        .iter()
        .enumerate()
        .map(|(i, (c, exp, act))| io_case(&format!("c{i}"), act, exp, *c))
        .collect();
    let mut t = task(tests);
    t.limits.time_ms = 5_000;
    let g = grader().await;
    let r = g
        .grade(
            "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n",
            &t,
        )
        .await
        .unwrap();
    for (i, (c, exp, act)) in cases.iter().enumerate() {
        let want = outputs_match(*c, exp, act);
        let o = &r.tests[i];
        assert_eq!(
            o.passed, want,
            "case {i}: {c:?} expected {exp:?} actual {act:?}: harness said {:?}",
            o.verdict
        );
        assert!(
            matches!(o.verdict, Verdict::Accepted | Verdict::WrongAnswer),
            "case {i}: {o:?}"
        );
    }
    assert!(r.tests.iter().any(|t| t.passed) && r.tests.iter().any(|t| !t.passed));
}

#[tokio::test]
async fn the_periodic_reaper_removes_containers_of_dead_owners() {
    let g = grader_with(SandboxConfig {
        reap_interval: Duration::from_millis(200),
        ..test_config()
    })
    .await;
    let docker = bollard::Docker::connect_with_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    // A container as a crashed Campus process would have left it: its owner pid does not exist.
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let owner = format!("{}/4194304/1", boot.trim());
    let run = uuid::Uuid::new_v4().to_string();
    let labels = sandbox::container::Labels {
        instance: "crashed",
        owner: &owner,
        run: &run,
    };
    let body = sandbox::container::create_body(g.config(), g.image_id(), 64, &labels);
    docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            body,
        )
        .await
        .unwrap();
    let label = format!("campus.run={run}");
    assert_eq!(containers_with(&label).await.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !containers_with(&label).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the periodic reaper did not remove the orphan"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_caller_that_panics_mid_run_leaves_no_container() {
    let g = grader().await;
    let instance = format!("campus.instance={}", g.instance_id());
    let caller = {
        let g = g.clone();
        tokio::spawn(async move {
            let t = sleeper();
            let run = g.grade("import time\ntime.sleep(30)\n", &t);
            tokio::select! {
                _ = run => {}
                _ = tokio::time::sleep(Duration::from_millis(1500)) => panic!("the caller panics mid-run"),
            }
        })
    };
    assert!(caller.await.unwrap_err().is_panic());
    let deadline = Instant::now() + Duration::from_secs(15);
    while !containers_with(&instance).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the run's container outlived the panicking caller"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
