//! HumanEval through the real sandbox: every canonical solution is accepted, and for every task a
//! body that only returns `None` is not. The data comes from `HUMANEVAL_PATH` or
//! `scripts/fetch-humaneval` (which downloads it once into `.cache/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use domain::grading::{Grader, Verdict};
use futures_util::StreamExt;
use sandbox::SandboxConfig;
use std::path::PathBuf;

fn humaneval_path() -> PathBuf {
    if let Ok(p) = std::env::var("HUMANEVAL_PATH") {
        return PathBuf::from(p);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fetch-humaneval");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .expect("run scripts/fetch-humaneval");
    assert!(
        out.status.success(),
        "scripts/fetch-humaneval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

async fn grade_all(codes: Vec<(String, String, domain::task::CodeTask)>) -> Vec<(String, Verdict)> {
    let g = grader_with(SandboxConfig {
        queue_capacity: 400,
        prestart: 2,
        ..test_config()
    })
    .await;
    let parallel = g.config().max_concurrent * 2;
    let results = futures_util::stream::iter(codes)
        .map(|(id, code, task)| {
            let g = g.clone();
            async move {
                let r = g
                    .grade(&code, &task)
                    .await
                    .unwrap_or_else(|e| panic!("{id}: grading failed: {e}"));
                (id, r.verdict)
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    g.shutdown().await;
    let label = format!("campus.instance={}", g.instance_id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !containers_with(&label).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "containers remain after shutdown"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_canonical_solution_is_accepted() {
    let tasks = sandbox::files::humaneval_tasks(&humaneval_path()).unwrap();
    assert_eq!(tasks.len(), 164);
    let results = grade_all(tasks).await;
    let failed: Vec<_> = results
        .iter()
        .filter(|(_, v)| *v != Verdict::Accepted)
        .collect();
    assert!(failed.is_empty(), "not accepted: {failed:?}");
    assert_eq!(results.len(), 164);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_returns_none_is_never_accepted() {
    let tasks = sandbox::files::humaneval_tasks(&humaneval_path()).unwrap();
    let stubs = tasks
        .into_iter()
        .map(|(id, _, task)| {
            let code = format!("{}    return None\n", task.starter_code);
            (id, code, task)
        })
        .collect();
    let results = grade_all(stubs).await;
    assert_eq!(results.len(), 164);
    let accepted: Vec<_> = results
        .iter()
        .filter(|(_, v)| *v == Verdict::Accepted)
        .collect();
    assert!(
        accepted.is_empty(),
        "a None body was accepted: {accepted:?}"
    );
    assert!(
        results
            .iter()
            .all(|(_, v)| matches!(v, Verdict::WrongAnswer | Verdict::RuntimeError)),
        "{results:?}"
    );
}
