//! Verdicts and the grading port. The `sandbox` crate implements [`Grader`].

use crate::{
    string_enum,
    task::{Checker, CodeTask, Limits},
};
use serde::{Deserialize, Serialize};

string_enum! {
    /// The outcome of one test, and of a whole submission (its first failing test's verdict).
    pub enum Verdict {
        Accepted => "accepted",
        WrongAnswer => "wrong_answer",
        TimeLimit => "time_limit",
        MemoryLimit => "memory_limit",
        OutputLimit => "output_limit",
        RuntimeError => "runtime_error",
        SyntaxError => "syntax_error",
        /// Our fault (sandbox failure), never the student's.
        InternalError => "internal_error",
    }
}

/// The result of one test. `input`, `expected` and `actual` are only ever set for visible tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestOutcome {
    pub name: String,
    pub verdict: Verdict,
    pub passed: bool,
    pub time_ms: u32,
    pub weight: u32,
    pub hidden: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// For visible tests: an assertion message or the last lines of stderr (truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What grading a submission produced, with what is needed to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradeReport {
    pub verdict: Verdict,
    /// Weighted share of passed tests, 0.0 to 1.0.
    pub score: f64,
    pub tests: Vec<TestOutcome>,
    /// Syntax error text, or the exit code/signal and last lines of stderr of a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// The sandbox image the run used (`sha256:...`), empty for grading done outside a sandbox.
    pub image_id: String,
    pub limits: Limits,
    pub duration_ms: u32,
}

impl GradeReport {
    /// A report for a failure that is ours, not the student's.
    pub fn internal(limits: Limits, why: &str) -> Self {
        Self {
            verdict: Verdict::InternalError,
            score: 0.0,
            tests: Vec::new(),
            diagnostics: Some(why.to_string()),
            image_id: String::new(),
            limits,
            duration_ms: 0,
        }
    }
}

/// Weighted score of a set of outcomes: passed weight over total weight.
pub fn weighted_score(tests: &[TestOutcome]) -> f64 {
    let total: u64 = tests.iter().map(|t| u64::from(t.weight)).sum();
    if total == 0 {
        return 0.0;
    }
    let passed: u64 = tests
        .iter()
        .filter(|t| t.passed)
        .map(|t| u64::from(t.weight))
        .sum();
    passed as f64 / total as f64
}

/// The overall verdict: accepted when every test passed, else the first failing test's verdict.
pub fn overall_verdict(tests: &[TestOutcome]) -> Verdict {
    tests
        .iter()
        .find(|t| !t.passed)
        .map_or(Verdict::Accepted, |t| t.verdict)
}

/// Compares program output with the expected output. Shared by the harness's spec and tests.
pub fn outputs_match(checker: Checker, expected: &str, actual: &str) -> bool {
    match checker {
        Checker::Exact => expected == actual,
        Checker::Lines => norm_lines(expected) == norm_lines(actual),
        Checker::Tokens => expected.split_whitespace().eq(actual.split_whitespace()),
        Checker::Float { abs, rel } => {
            let (e, a): (Vec<&str>, Vec<&str>) = (
                expected.split_whitespace().collect(),
                actual.split_whitespace().collect(),
            );
            e.len() == a.len()
                && e.iter()
                    .zip(&a)
                    .all(|(x, y)| match (x.parse::<f64>(), y.parse::<f64>()) {
                        (Ok(x), Ok(y)) => {
                            (x - y).abs() <= abs
                                || (x - y).abs() <= rel * x.abs().max(y.abs())
                                || x == y
                        }
                        _ => x == y,
                    })
        }
    }
}

fn norm_lines(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Why a submission could not be graded at all. None of these is the student's fault.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    /// Every runner is taken and the queue is full: try again shortly.
    #[error("the grader is busy; try again shortly")]
    Busy,
    /// Docker is not running, or the sandbox image is missing. The message says how to fix it.
    #[error("sandbox unavailable: {0}")]
    Unavailable(String),
    #[error("sandbox failure: {0}")]
    Internal(String),
}

/// Runs a program against a code task's tests in isolation.
#[async_trait::async_trait]
pub trait Grader: Send + Sync {
    async fn grade(&self, code: &str, task: &CodeTask) -> Result<GradeReport, GradeError>;

    /// Whether grading can run now, asked before a submission is stored (so a sandbox that is
    /// down answers 503 with nothing stored) and by readiness checks. A grader that connects
    /// lazily tries to (re)connect here. The default: always ready.
    async fn ready(&self) -> Result<(), GradeError> {
        Ok(())
    }

    /// Releases what the grader holds ahead of need (pre-created containers). Called once on a
    /// graceful stop; grading after it is not expected.
    async fn shutdown(&self) {}
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn checkers_compare_as_documented() {
        assert!(outputs_match(Checker::Lines, "3\n", "3   \n\n"));
        assert!(!outputs_match(Checker::Exact, "3\n", "3"));
        assert!(outputs_match(Checker::Tokens, "1 2\n3", "1\n2 3\n"));
        assert!(outputs_match(
            Checker::Float {
                abs: 1e-6,
                rel: 0.0
            },
            "0.3333333",
            "0.33333333"
        ));
        assert!(!outputs_match(
            Checker::Float {
                abs: 1e-9,
                rel: 1e-9
            },
            "1.0",
            "1.1"
        ));
        assert!(!outputs_match(
            Checker::Float {
                abs: 1e-6,
                rel: 0.0
            },
            "1 2",
            "1"
        ));
    }

    #[test]
    fn verdict_spelling_is_snake_case() {
        assert_eq!(
            serde_json::to_string(&Verdict::WrongAnswer).unwrap(),
            "\"wrong_answer\""
        );
    }
}
