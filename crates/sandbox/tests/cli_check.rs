//! `campus check` (crates/api/src/cli_check.rs, compiled here as is): grading a task file happens
//! and succeeds whatever the verdict; bad arguments and invalid task files are clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../api/src/cli_check.rs"]
mod cli_check;
mod common;

use clap::Parser;

#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    check: cli_check::CheckArgs,
}

fn args(a: &[&str]) -> cli_check::CheckArgs {
    Cli::try_parse_from(std::iter::once("check").chain(a.iter().copied()))
        .unwrap()
        .check
}

fn scratch() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("campus-check-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const TASK: &str = r#"{"slug": "double", "title": "Double", "data": {"kind": "code", "statement": "Double it",
  "tests": [{"name": "t", "body": {"io": {"stdin": "2\n", "expected": "4\n"}}}]}}"#;

#[tokio::test]
async fn grading_a_task_file_succeeds_whatever_the_verdict() {
    let d = scratch();
    std::fs::write(d.join("task.json"), TASK).unwrap();
    std::fs::write(d.join("wrong.py"), "print(5)\n").unwrap();
    std::fs::write(d.join("right.py"), "print(int(input()) * 2)\n").unwrap();
    for sol in ["wrong.py", "right.py"] {
        let a = args(&[
            d.join("task.json").to_str().unwrap(),
            d.join(sol).to_str().unwrap(),
        ]);
        cli_check::run(common::test_config(), a).await.unwrap();
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[tokio::test]
async fn an_invalid_task_file_is_an_error_naming_the_field() {
    let d = scratch();
    std::fs::write(
        d.join("task.json"),
        TASK.replace(
            "\"tests\": [",
            "\"limits\": {\"timeMs\": 1, \"memoryMb\": 64, \"outputKb\": 8}, \"tests\": [",
        ),
    )
    .unwrap();
    std::fs::write(d.join("s.py"), "print(4)\n").unwrap();
    let a = args(&[
        d.join("task.json").to_str().unwrap(),
        d.join("s.py").to_str().unwrap(),
    ]);
    let err = cli_check::run(common::test_config(), a)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("limits.timeMs"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[tokio::test]
async fn a_task_without_a_solution_is_a_usage_error() {
    let err = cli_check::run(common::test_config(), args(&["task.toml"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("usage"), "{err}");
}
