//! `campus check`: a teacher grades a solution against a task file, or every canonical solution
//! of HumanEval, in the real sandbox. Files are read directly (serde, flate2 via
//! `sandbox::files`); nothing touches the database.
//!
//! - `campus check TASK_FILE SOLUTION.py` prints the `GradeReport` as JSON and exits 0 whenever
//!   grading happened, whatever the verdict. TASK_FILE is TOML (`.toml`) or JSON in the course
//!   format: one task (`slug`, `title`, `data` with `kind = "code"`), a task's `data` alone, or a
//!   whole course holding exactly one code task.
//! - `campus check --humaneval HumanEval.jsonl.gz` grades all canonical solutions, prints a JSON
//!   summary (counts per verdict, the tasks not accepted) and exits non-zero if any is not accepted.

use anyhow::Context;
use domain::grading::{GradeError, GradeReport, Grader, Verdict};
use domain::task::CodeTask;
use futures_util::StreamExt;
use sandbox::{DockerGrader, SandboxConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The task, in the course format (TOML or JSON): one task, a task's `data`, or a course with
    /// exactly one code task.
    task_file: Option<PathBuf>,
    /// The Python program to grade against it.
    solution: Option<PathBuf>,
    /// Grade every canonical solution of this HumanEval.jsonl(.gz) instead.
    #[arg(long)]
    humaneval: Option<PathBuf>,
}

pub async fn run(sandbox: SandboxConfig, args: CheckArgs) -> anyhow::Result<()> {
    match (args.humaneval, args.task_file, args.solution) {
        (Some(data), None, None) => check_humaneval(sandbox, data).await,
        (None, Some(task), Some(solution)) => check_one(sandbox, task, &solution).await,
        _ => anyhow::bail!(
            "usage: `campus check TASK_FILE SOLUTION.py` or `campus check --humaneval HumanEval.jsonl.gz`"
        ),
    }
}

async fn check_one(
    sandbox: SandboxConfig,
    task_file: PathBuf,
    solution: &Path,
) -> anyhow::Result<()> {
    let (_, task) = tokio::task::spawn_blocking(move || sandbox::files::load_code_task(&task_file))
        .await
        .context("reading the task file")??;
    let code = tokio::fs::read_to_string(solution)
        .await
        .with_context(|| format!("cannot read the solution {}", solution.display()))?;
    let grader = DockerGrader::connect(sandbox).await?;
    let report = grade_patiently(&grader, &code, &task).await;
    grader.shutdown().await;
    let report = report?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Grades, waiting and retrying while the grader answers busy.
async fn grade_patiently(
    grader: &DockerGrader,
    code: &str,
    task: &CodeTask,
) -> anyhow::Result<GradeReport> {
    loop {
        match grader.grade(code, task).await {
            Err(GradeError::Busy) => tokio::time::sleep(Duration::from_millis(50)).await,
            other => return Ok(other?),
        }
    }
}

async fn check_humaneval(sandbox: SandboxConfig, data: PathBuf) -> anyhow::Result<()> {
    let tasks = tokio::task::spawn_blocking(move || sandbox::files::humaneval_tasks(&data))
        .await
        .context("reading the HumanEval file")??;
    let grader = DockerGrader::connect(sandbox).await?;
    let parallel = grader.config().max_concurrent * 2;
    let started = Instant::now();
    let results: Vec<(String, anyhow::Result<GradeReport>)> = futures_util::stream::iter(tasks)
        .map(|(id, code, task)| {
            let grader = grader.clone();
            async move {
                let r = grade_patiently(&grader, &code, &task).await;
                (id, r)
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    grader.shutdown().await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_accepted = Vec::new();
    for (id, r) in &results {
        let verdict = match r {
            Ok(report) => report.verdict.to_string(),
            Err(e) => format!("error: {e}"),
        };
        if !matches!(r, Ok(report) if report.verdict == Verdict::Accepted) {
            not_accepted.push(serde_json::json!({ "task": id, "verdict": verdict }));
        }
        *counts.entry(verdict).or_default() += 1;
    }
    not_accepted.sort_by(|a, b| a["task"].as_str().cmp(&b["task"].as_str()));
    let summary = serde_json::json!({
        "total": results.len(),
        "verdicts": counts,
        "notAccepted": not_accepted,
        "seconds": started.elapsed().as_secs_f64(),
        "imageId": grader.image_id(),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    anyhow::ensure!(
        not_accepted.is_empty(),
        "{} of {} canonical solutions were not accepted",
        not_accepted.len(),
        results.len()
    );
    Ok(())
}
