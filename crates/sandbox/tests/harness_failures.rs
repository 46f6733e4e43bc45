//! Failures that are ours (the harness's, the runner's or the task author's) are `internal_error`,
//! never a verdict against the student, and their messages name the test and the kind of failure,
//! never the harness's source lines or paths. Real Docker, real image; fails when either is
//! missing. The runner and harness crashes use images derived from the sandbox image with one
//! line of the harness changed (`docker build` from the local image, no registry).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use domain::grading::{GradeReport, Verdict};
use domain::task::Checker;
use sandbox::SandboxConfig;

const CORRECT: &str = "def f(x):\n    return x * 2\n";

/// Nothing of the harness's own source, paths or tracebacks reaches a report. (A student's own
/// traceback may show, with the student's frames only.)
#[track_caller]
fn assert_no_harness_internals(r: &GradeReport) {
    let mut texts: Vec<&str> = r
        .tests
        .iter()
        .filter_map(|t| t.message.as_deref())
        .collect();
    texts.extend(r.diagnostics.as_deref());
    let ours = r.verdict == Verdict::InternalError;
    for text in texts {
        for internal in [
            "/opt/campus",
            "runner.py",
            "harness.py",
            "compile(",
            "<string>",
        ]
        .into_iter()
        .chain(
            ours.then_some(["Traceback", "File \""])
                .into_iter()
                .flatten(),
        ) {
            assert!(
                !text.contains(internal),
                "a report shows the harness's internals ({internal}): {text}"
            );
        }
    }
}

#[tokio::test]
async fn a_test_that_does_not_compile_is_an_internal_error_naming_the_test() {
    let t = task(vec![
        assert_case("good", "assert f(2) == 4"),
        assert_case("broken", "assert (\n"),
        assert_case("also good", "assert f(3) == 6"),
    ]);
    let r = attack_task(CORRECT, &t).await;
    assert_verdict(&r, Verdict::InternalError);
    assert_no_harness_internals(&r);
    let broken = &r.tests[1];
    assert_eq!(broken.verdict, Verdict::InternalError);
    assert_eq!(
        broken.message.as_deref(),
        Some("test `broken` does not compile: SyntaxError at line 1"),
        "{r:?}"
    );
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("test `broken` does not compile: SyntaxError at line 1")
    );
    // The other tests still ran and grade the (correct) program as correct.
    assert!(r.tests[0].passed && r.tests[2].passed, "{r:?}");
}

#[tokio::test]
async fn a_broken_test_outweighs_the_students_failures_and_a_hidden_one_is_still_named() {
    // The program fails the first test; the run is still ours to answer for, because a test
    // could not be graded at all.
    let mut t = task(vec![
        assert_case("fails", "assert f(2) == 5"),
        assert_case("secret", "def check(c):\n    assert c(1) ==\n"),
    ]);
    t.tests[1].hidden = true;
    let r = attack_task(CORRECT, &t).await;
    assert_verdict(&r, Verdict::InternalError);
    assert_eq!(r.tests[0].verdict, Verdict::WrongAnswer);
    let hidden = &r.tests[1];
    assert_eq!(hidden.verdict, Verdict::InternalError);
    assert!(hidden.message.is_none() && hidden.input.is_none(), "{r:?}");
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("test `secret` does not compile: SyntaxError at line 2")
    );
    assert_no_harness_internals(&r);
}

#[tokio::test]
async fn an_unusable_checker_is_an_internal_error_not_a_wrong_answer() {
    // NaN goes into the job as JSON `null`: a test the harness cannot run.
    let t = task(vec![io_case(
        "floats",
        "",
        "1.0",
        Checker::Float {
            abs: f64::NAN,
            rel: 0.0,
        },
    )]);
    let r = attack_task("print(1.0)\n", &t).await;
    assert_verdict(&r, Verdict::InternalError);
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("test `floats` has an invalid checker")
    );
    assert_no_harness_internals(&r);
}

#[tokio::test]
async fn the_students_own_faults_keep_their_verdicts() {
    // A syntax error in the program is the student's, even when a test is broken too.
    let t = task(vec![
        assert_case("good", "assert f(2) == 4"),
        assert_case("broken", "assert (\n"),
    ]);
    let r = attack_task("def f(x):\n    return (x\n", &t).await;
    assert_verdict(&r, Verdict::SyntaxError);
    // An exception of the program, in the program or raised through the test code.
    let t = task(vec![
        assert_case("raises", "assert f(0) == 0"),
        assert_case("type", "assert f('a') == 1"),
    ]);
    let r = attack_task("def f(x):\n    return 1 / x\n", &t).await;
    assert_verdict(&r, Verdict::RuntimeError);
    assert!(
        r.tests.iter().all(|t| t.verdict == Verdict::RuntimeError),
        "{r:?}"
    );
    let m = r.tests[0].message.as_deref().unwrap_or("");
    assert!(
        m.contains("ZeroDivisionError") && m.contains("main.py"),
        "{m}"
    );
    assert_no_harness_internals(&r);
    // An io program that crashes.
    let r = attack("raise ValueError('mine')\n", "x").await;
    assert_verdict(&r, Verdict::RuntimeError);
    assert!(message(&r).contains("ValueError: mine"), "{r:?}");
}

#[tokio::test]
async fn a_fork_bomb_in_one_test_does_not_make_the_next_one_internal() {
    // The processes of test 1 still count against the pids limit until init reaps them; the
    // harness waits for room instead of failing test 2.
    let code = r#"
import os, sys, time
if sys.stdin.read() == "bomb":
    for _ in range(200):
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
        except OSError:
            break
print("ok")
"#;
    let t = task(vec![
        io_case("bomb", "bomb", "ok", Checker::Lines),
        io_case("next", "", "ok", Checker::Lines),
        io_case("and next", "", "ok", Checker::Lines),
    ]);
    let r = attack_task(code, &t).await;
    assert_verdict(&r, Verdict::Accepted);
}

// ---------------------------------------------------------------- the harness itself breaks

/// Builds `campus-sandbox-test:<variant>` from the sandbox image with `old` replaced by `new` in
/// `/opt/campus/<file>` (the build fails if `old` is not there, so the test cannot pass vacuously).
fn derived_image(variant: &str, file: &str, old: &str, new: &str) -> String {
    let base = test_config().image;
    let tag = format!("campus-sandbox-test:{variant}");
    let patch = "import sys, pathlib\np = pathlib.Path(sys.argv[1])\ns = p.read_text()\nassert sys.argv[2] in s, 'nothing to patch'\np.write_text(s.replace(sys.argv[2], sys.argv[3]))\n";
    let run = serde_json::to_string(&[
        "python3",
        "-c",
        patch,
        &format!("/opt/campus/{file}"),
        old,
        new,
    ])
    .unwrap();
    let dockerfile = format!(
        "FROM {base}\nUSER root\nRUN {run}\nRUN python3 -m compileall -q /opt/campus || true\nUSER 10001:10001\n"
    );
    let mut child = std::process::Command::new("docker")
        .args(["build", "--quiet", "-t", &tag, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker CLI");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "docker build of {tag} failed");
    tag
}

async fn grade_with_image(image: String, code: &str, t: &domain::task::CodeTask) -> GradeReport {
    let g = grader_with(SandboxConfig {
        image,
        ..test_config()
    })
    .await;
    let (r, trace) = g.grade_traced(code, t).await.expect("grading happened");
    assert_container_gone(&trace).await;
    r
}

fn two_io_tests() -> domain::task::CodeTask {
    task(vec![
        io_case("first", "", "42", Checker::Lines),
        io_case("second", "", "42", Checker::Lines),
    ])
}

#[tokio::test]
async fn a_runner_that_fails_before_the_program_starts_is_an_internal_error() {
    let image = derived_image(
        "runner-raises",
        "runner.py",
        "os.chdir(\"/tmp\")",
        "os.chdir(\"/no/such/dir\")",
    );
    let r = grade_with_image(image, "print(42)\n", &two_io_tests()).await;
    assert_verdict(&r, Verdict::InternalError);
    assert!(
        r.tests.iter().all(|t| t.verdict == Verdict::InternalError),
        "{r:?}"
    );
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("test `first` could not be run: the test runner failed before the program started (FileNotFoundError)")
    );
    assert_no_harness_internals(&r);
}

#[tokio::test]
async fn a_runner_that_cannot_even_load_is_an_internal_error() {
    // runner.py does not import: Python prints a traceback full of harness paths and exits 1.
    let image = derived_image(
        "runner-broken",
        "runner.py",
        "def _prepare():",
        "def _prepare(:",
    );
    let r = grade_with_image(image, "print(42)\n", &two_io_tests()).await;
    assert_verdict(&r, Verdict::InternalError);
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("test `first` could not be run: the test runner ended before the program started (exit code 1)")
    );
    assert_no_harness_internals(&r);
}

#[tokio::test]
async fn a_harness_that_cannot_read_its_job_is_an_internal_error() {
    // No nonce, so no frame: only the exit code says the harness failed (the program never ran).
    let image = derived_image(
        "harness-no-job",
        "harness.py",
        "job.pop(\"nonce\")",
        "job.pop(\"no such key\")",
    );
    let r = grade_with_image(image, "print(42)\n", &two_io_tests()).await;
    assert_verdict(&r, Verdict::InternalError);
    assert!(
        r.tests.iter().all(|t| t.verdict == Verdict::InternalError),
        "{r:?}"
    );
    let d = r.diagnostics.as_deref().unwrap_or("");
    assert!(
        d.contains("grading harness stopped unexpectedly") && d.contains("exit code 70"),
        "{d}"
    );
    assert_no_harness_internals(&r);
}

#[tokio::test]
async fn a_harness_failure_outside_any_test_is_an_internal_error() {
    let image = derived_image(
        "harness-fails",
        "harness.py",
        "syntax_check(job[\"code\"])",
        "syntax_check(job[\"no such key\"])",
    );
    let r = grade_with_image(image, "print(42)\n", &two_io_tests()).await;
    assert_verdict(&r, Verdict::InternalError);
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("the grading harness failed (KeyError)")
    );
    assert_eq!(r.tests.len(), 2);
    assert!(
        r.tests.iter().all(|t| t.verdict == Verdict::InternalError),
        "{r:?}"
    );
    assert_no_harness_internals(&r);
}

#[tokio::test]
async fn a_harness_failure_in_one_test_is_that_tests_internal_error() {
    // The checker code breaks for io tests; the assert test is graded normally.
    let image = derived_image(
        "checker-fails",
        "harness.py",
        "    if kind == \"lines\":\n        return _lines(expected) == _lines(actual)",
        "    if kind == \"lines\":\n        return _lines(expected) == _lines(actual) if expected == \"0\" else {}[kind]",
    );
    let t = task(vec![
        io_case("io", "", "42", Checker::Lines),
        assert_case("assert", "assert f(2) == 4"),
    ]);
    let r = grade_with_image(image, &format!("{CORRECT}print(42)\n"), &t).await;
    assert_verdict(&r, Verdict::InternalError);
    assert_eq!(r.tests[0].verdict, Verdict::InternalError);
    assert!(r.tests[1].passed, "{r:?}");
    assert_eq!(
        r.diagnostics.as_deref(),
        Some("test `io` could not be run: the grading harness failed (KeyError)")
    );
    assert_no_harness_internals(&r);
}
