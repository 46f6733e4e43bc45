//! Shared helpers of the sandbox tests. They use the real Docker engine and the real image, and
//! FAIL (never skip) with a message saying what to start or build when either is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::Docker;
use domain::grading::{GradeReport, Verdict};
use domain::task::{AssertTest, Checker, CodeTask, IoTest, Limits, TestBody, TestCase};
use sandbox::{DockerGrader, RunTrace, SandboxConfig};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub fn test_config() -> SandboxConfig {
    SandboxConfig {
        image: std::env::var("CAMPUS_SANDBOX_IMAGE")
            .unwrap_or_else(|_| "campus-sandbox:latest".into()),
        prestart: 0,
        ..SandboxConfig::default()
    }
}

pub async fn grader_with(config: SandboxConfig) -> DockerGrader {
    match DockerGrader::connect(config).await {
        Ok(g) => g,
        Err(e) => panic!(
            "the sandbox tests need a running Docker engine and the sandbox image \
             (scripts/setup-docker, then scripts/build-sandbox-image): {e}"
        ),
    }
}

pub async fn grader() -> DockerGrader {
    grader_with(test_config()).await
}

pub fn limits() -> Limits {
    Limits {
        time_ms: 1_000,
        memory_mb: 64,
        output_kb: 16,
    }
}

pub fn io_case(name: &str, stdin: &str, expected: &str, checker: Checker) -> TestCase {
    TestCase {
        name: name.into(),
        hidden: false,
        weight: 1,
        body: TestBody::Io(IoTest {
            stdin: stdin.into(),
            expected: expected.into(),
            checker,
        }),
    }
}

pub fn assert_case(name: &str, code: &str) -> TestCase {
    TestCase {
        name: name.into(),
        hidden: false,
        weight: 1,
        body: TestBody::Assert(AssertTest { code: code.into() }),
    }
}

pub fn task(tests: Vec<TestCase>) -> CodeTask {
    CodeTask {
        statement: "attack".into(),
        starter_code: String::new(),
        limits: limits(),
        entry_point: Some("f".into()),
        tests,
        reference_solution: None,
    }
}

pub fn io_task(expected: &str) -> CodeTask {
    task(vec![io_case("only", "", expected, Checker::Lines)])
}

/// Containers carrying a label `key=value`, in any state.
pub async fn containers_with(label: &str) -> Vec<String> {
    let docker = Docker::connect_with_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    let filters = HashMap::from([("label", vec![label.to_string()])]);
    let opts = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(opts))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.id)
        .collect()
}

/// Running containers carrying a label `key=value`.
pub async fn running_with(label: &str) -> Vec<String> {
    let docker = Docker::connect_with_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    let filters = HashMap::from([
        ("label", vec![label.to_string()]),
        ("status", vec!["running".to_string()]),
    ]);
    let opts = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(opts))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.id)
        .collect()
}

/// Waits (up to 15 s) until the run's container no longer exists, and fails if it stays.
pub async fn assert_container_gone(trace: &RunTrace) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = containers_with(&format!("campus.run={}", trace.run_id)).await;
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "container {} of run {} still exists",
            trace.container_id,
            trace.run_id
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Grades `code` against a one-test io task expecting `expected`, checks that its container is
/// removed afterwards, and returns the report.
pub async fn attack(code: &str, expected: &str) -> GradeReport {
    attack_task(code, &io_task(expected)).await
}

pub async fn attack_task(code: &str, task: &CodeTask) -> GradeReport {
    let g = grader().await;
    let started = Instant::now();
    let (report, trace) = g.grade_traced(code, task).await.expect("grading happened");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "a run took {took:?}");
    assert_container_gone(&trace).await;
    assert_eq!(report.image_id, g.image_id());
    assert_eq!(report.limits, task.limits);
    report
}

pub fn actual(r: &GradeReport) -> &str {
    r.tests
        .first()
        .and_then(|t| t.actual.as_deref())
        .unwrap_or("")
}

pub fn message(r: &GradeReport) -> String {
    r.tests
        .first()
        .and_then(|t| t.message.clone())
        .unwrap_or_default()
}

#[track_caller]
pub fn assert_verdict(r: &GradeReport, v: Verdict) {
    assert_eq!(
        r.verdict,
        v,
        "report: {}",
        serde_json::to_string_pretty(r).unwrap()
    );
}
