//! What goes into the container on stdin (one JSON job) and what comes back (nonce-prefixed
//! frames, one per line), and how frames become a [`GradeReport`]. No I/O here.

use domain::grading::{overall_verdict, weighted_score, GradeReport, TestOutcome, Verdict};
use domain::task::{Checker, CodeTask, Limits, TestBody};
use serde::{Deserialize, Serialize};

/// Visible inputs, outputs and messages are cut to this many bytes in a report.
pub const REPORT_BYTES: usize = 4096;
/// A partial line longer than this is not a frame; the rest of it is only counted.
const MAX_LINE: usize = 1 << 20;

#[derive(Serialize)]
struct Job<'a> {
    nonce: &'a str,
    code: &'a str,
    limits: Limits,
    tests: Vec<JobTest<'a>>,
}

#[derive(Serialize)]
struct JobTest<'a> {
    /// The harness runs visible tests before hidden ones (see `docs/sandbox.md`).
    hidden: bool,
    #[serde(flatten)]
    body: JobBody<'a>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum JobBody<'a> {
    Io {
        stdin: &'a str,
        expected: &'a str,
        checker: Checker,
    },
    Assert {
        code: &'a str,
    },
}

/// The job document sent on the container's stdin.
pub fn job_json(nonce: &str, code: &str, task: &CodeTask) -> Result<Vec<u8>, serde_json::Error> {
    let tests = task
        .tests
        .iter()
        .map(|t| JobTest {
            hidden: t.hidden,
            body: match &t.body {
                TestBody::Io(io) => JobBody::Io {
                    stdin: &io.stdin,
                    expected: &io.expected,
                    checker: io.checker,
                },
                TestBody::Assert(a) => JobBody::Assert { code: &a.code },
            },
        })
        .collect();
    serde_json::to_vec(&Job {
        nonce,
        code,
        limits: task.limits,
        tests,
    })
}

/// Memory the harness needs beyond its usual share to hold a large job (it keeps the program and
/// every test in memory, a few times over while parsing), in MiB; 0 for ordinary jobs.
pub fn job_overhead_mb(code: &str, task: &CodeTask) -> u32 {
    let bytes = code.len()
        + task
            .tests
            .iter()
            .map(|t| match &t.body {
                TestBody::Io(io) => io.stdin.len() + io.expected.len(),
                TestBody::Assert(a) => a.code.len(),
            })
            .sum::<usize>();
    if bytes <= 256 * 1024 {
        0
    } else {
        u32::try_from(bytes.saturating_mul(4) / (1024 * 1024) + 1).unwrap_or(u32::MAX)
    }
}

/// A fresh random nonce: 128 bits from the OS, hex.
pub fn new_nonce() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// One line the harness wrote, after its nonce.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Frame {
    Test {
        index: usize,
        verdict: Verdict,
        time_ms: u32,
        #[serde(default)]
        actual: Option<String>,
        #[serde(default)]
        message: Option<String>,
        /// For `internal_error`: where in the harness it failed. Logged, never reported.
        #[serde(default)]
        detail: Option<String>,
    },
    Syntax {
        message: String,
    },
    Done,
    /// The harness failed outside any one test. `message` names the kind of failure only.
    Internal {
        message: String,
        #[serde(default)]
        detail: Option<String>,
    },
}

impl Frame {
    /// Where in the harness an internal failure happened (for the operators' log).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Frame::Test { detail, .. } | Frame::Internal { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }
}

/// Splits the container's stdout into lines and keeps the frames that carry the nonce; anything
/// else (a program writing to the container's stdout some other way) is only counted.
#[derive(Debug)]
pub struct FrameReader {
    prefix: Vec<u8>,
    partial: Vec<u8>,
    pub frames: Vec<Frame>,
    /// A line had the nonce but was not a frame we understand: a harness bug.
    pub malformed: Option<String>,
    pub bytes: usize,
}

impl FrameReader {
    pub fn new(nonce: &str) -> Self {
        let mut prefix = nonce.as_bytes().to_vec();
        prefix.push(b' ');
        Self {
            prefix,
            partial: Vec::new(),
            frames: Vec::new(),
            malformed: None,
            bytes: 0,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len();
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            if self.partial.len() + pos <= MAX_LINE {
                self.partial.extend_from_slice(&rest[..pos]);
                let line = std::mem::take(&mut self.partial);
                self.line(&line);
            } else {
                self.partial.clear();
            }
            rest = &rest[pos + 1..];
        }
        if self.partial.len() + rest.len() <= MAX_LINE {
            self.partial.extend_from_slice(rest);
        }
    }

    fn line(&mut self, line: &[u8]) {
        let Some(json) = line.strip_prefix(self.prefix.as_slice()) else {
            return;
        };
        match serde_json::from_slice::<Frame>(json) {
            Ok(f) => self.frames.push(f),
            Err(e) => self.malformed = Some(e.to_string()),
        }
    }

    pub fn done(&self) -> bool {
        self.frames
            .iter()
            .any(|f| matches!(f, Frame::Done | Frame::Internal { .. }))
    }
}

/// How the container's run ended, as seen from outside.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The harness wrote its last frame.
    Finished,
    /// The run's wall-clock limit passed; the container was killed.
    WallClock,
    /// The container wrote more than its output budget; it was killed.
    OutputCap,
    /// The kernel killed a process of the container for memory (`State.OOMKilled`).
    OutOfMemory,
    /// The container ended without the last frame (the harness was killed or died).
    Vanished { exit_code: Option<i64> },
}

/// The container's exit code when its harness was killed by SIGKILL (docker-init exits with
/// 128 + the signal). The program under test can do that (same uid); every other way for the
/// harness to end without its last frame is its own failure (it exits with 70 when it cannot
/// even read its job).
const KILLED_BY_SIGKILL: i64 = 128 + 9;

/// Everything needed to build the report of one run.
pub struct RunRecord<'a> {
    pub task: &'a CodeTask,
    pub frames: &'a [Frame],
    pub malformed: Option<&'a str>,
    pub ending: Ending,
    pub image_id: &'a str,
    pub duration_ms: u32,
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn outcome(
    task: &CodeTask,
    index: usize,
    verdict: Verdict,
    time_ms: u32,
    actual: Option<String>,
    message: Option<String>,
) -> Option<TestOutcome> {
    let t = task.tests.get(index)?;
    let visible = !t.hidden;
    let (input, expected) = match &t.body {
        TestBody::Io(io) => (
            Some(truncate(&io.stdin, REPORT_BYTES)),
            Some(truncate(&io.expected, REPORT_BYTES)),
        ),
        TestBody::Assert(a) => (Some(truncate(&a.code, REPORT_BYTES)), None),
    };
    let actual = match &t.body {
        TestBody::Io(_) => actual.map(|a| truncate(&a, REPORT_BYTES)),
        TestBody::Assert(_) => None,
    };
    Some(TestOutcome {
        name: t.name.clone(),
        verdict,
        passed: verdict == Verdict::Accepted,
        // A hidden test's time would be a channel out of it: a program that sleeps for as many
        // milliseconds as its input's next byte reads hidden input one byte per submission.
        time_ms: if visible { time_ms } else { 0 },
        weight: t.weight,
        hidden: t.hidden,
        input: input.filter(|_| visible),
        expected: expected.filter(|_| visible),
        actual: actual.filter(|_| visible),
        message: message
            .map(|m| truncate(&m, REPORT_BYTES))
            .filter(|_| visible),
    })
}

/// Why tests without a result of their own have none, and what they get instead.
fn missing(syntax: bool, harness_failed: bool, ending: &Ending) -> (Verdict, &'static str) {
    if syntax {
        return (
            Verdict::SyntaxError,
            "not run: the program has a syntax error",
        );
    }
    if harness_failed {
        return (
            Verdict::InternalError,
            "not run: the grading harness failed",
        );
    }
    match ending {
        Ending::Finished => (
            Verdict::InternalError,
            "not run: the grading harness reported no result for this test",
        ),
        Ending::WallClock => (Verdict::TimeLimit, "the run exceeded its total time limit"),
        Ending::OutputCap => (Verdict::OutputLimit, "the run wrote more than its output limit"),
        Ending::OutOfMemory => (Verdict::MemoryLimit, "the run ran out of memory"),
        Ending::Vanished {
            exit_code: Some(KILLED_BY_SIGKILL),
        } => (
            Verdict::RuntimeError,
            "the program ended the grading harness (for example by killing it) before this test finished",
        ),
        Ending::Vanished { .. } => (
            Verdict::InternalError,
            "not run: the grading harness stopped unexpectedly",
        ),
    }
}

/// Builds the report. Tests without a result get the verdict of how the run ended.
///
/// `internal_error` is ours (or the task author's), never the student's: when any test has it,
/// so does the run, whatever the other tests say, and the diagnostics name the first such test.
pub fn assemble(r: RunRecord<'_>) -> GradeReport {
    let limits = r.task.limits;
    let mut tests: Vec<Option<TestOutcome>> = vec![None; r.task.tests.len()];
    // The first (by index) test the harness could not grade, with the reason, for diagnostics:
    // it names the test and the kind of failure only, so it is shown even for hidden tests.
    let mut first_internal: Option<(usize, String)> = None;
    let mut syntax_message = None;
    let mut harness_failure = r
        .malformed
        .map(|_| "the grading harness sent a malformed result".to_string());
    for f in r.frames {
        match f {
            Frame::Test {
                index,
                verdict,
                time_ms,
                actual,
                message,
                ..
            } => {
                let Some(slot) = tests.get_mut(*index) else {
                    continue;
                };
                let mut message = message.clone();
                if *verdict == Verdict::InternalError {
                    let name = r.task.tests.get(*index).map_or("?", |t| t.name.as_str());
                    let why = message.as_deref().unwrap_or("could not be run");
                    let named = format!("test `{name}` {why}");
                    if first_internal.as_ref().is_none_or(|(i, _)| index < i) {
                        first_internal = Some((*index, named.clone()));
                    }
                    message = Some(named);
                }
                *slot = outcome(r.task, *index, *verdict, *time_ms, actual.clone(), message);
            }
            Frame::Syntax { message } => syntax_message = Some(truncate(message, REPORT_BYTES)),
            Frame::Internal { message, .. } => harness_failure = Some(message.clone()),
            Frame::Done => {}
        }
    }
    let syntax = syntax_message.is_some();
    let (missing_verdict, missing_message) = missing(syntax, harness_failure.is_some(), &r.ending);
    let tests: Vec<TestOutcome> = tests
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.or_else(|| {
                outcome(
                    r.task,
                    i,
                    missing_verdict,
                    0,
                    None,
                    Some(missing_message.to_string()),
                )
            })
        })
        .collect();
    let verdict = if syntax {
        Verdict::SyntaxError
    } else if tests.iter().any(|t| t.verdict == Verdict::InternalError) {
        Verdict::InternalError
    } else {
        overall_verdict(&tests)
    };
    let ending_note = || match &r.ending {
        Ending::Vanished { exit_code: Some(c) } => {
            format!("{missing_message} (container exit code {c})")
        }
        _ => missing_message.to_string(),
    };
    let diagnostics = if syntax {
        syntax_message
    } else if verdict == Verdict::InternalError {
        Some(match (harness_failure, first_internal) {
            (Some(why), _) => why,
            (None, Some((_, named))) => named,
            (None, None) => ending_note(),
        })
    } else if r.ending != Ending::Finished {
        Some(ending_note())
    } else {
        tests
            .iter()
            .find(|t| !t.passed && !t.hidden)
            .and_then(|t| t.message.clone())
    };
    GradeReport {
        verdict,
        score: weighted_score(&tests),
        // The run's length would tell what the per-test times no longer do.
        duration_ms: if r.task.tests.iter().any(|t| t.hidden) {
            0
        } else {
            r.duration_ms
        },
        tests,
        diagnostics,
        image_id: r.image_id.to_string(),
        limits,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use domain::task::{AssertTest, IoTest, TestCase};

    fn task() -> CodeTask {
        CodeTask {
            statement: "s".into(),
            starter_code: String::new(),
            limits: Limits::default(),
            entry_point: Some("f".into()),
            tests: vec![
                TestCase {
                    name: "a".into(),
                    hidden: false,
                    weight: 1,
                    body: TestBody::Io(IoTest {
                        stdin: "1".into(),
                        expected: "2".into(),
                        checker: Checker::Lines,
                    }),
                },
                TestCase {
                    name: "b".into(),
                    hidden: true,
                    weight: 3,
                    body: TestBody::Assert(AssertTest {
                        code: "assert f() == 1".into(),
                    }),
                },
            ],
            reference_solution: None,
        }
    }

    #[test]
    fn only_lines_with_the_nonce_are_frames() {
        let mut r = FrameReader::new("n0nce");
        r.push(b"{\"type\":\"done\"}\nwrong {\"type\":\"done\"}\nn0nce {\"type\":\"te");
        assert!(r.frames.is_empty());
        r.push(b"st\",\"index\":0,\"verdict\":\"accepted\",\"timeMs\":5}\n\nn0nce {\"type\":\"done\"}\n");
        assert_eq!(r.frames.len(), 2);
        assert!(r.done());
    }

    #[test]
    fn hidden_tests_report_only_pass_or_fail_and_missing_tests_take_the_ending() {
        let t = task();
        let frames = vec![Frame::Test {
            index: 0,
            verdict: Verdict::Accepted,
            time_ms: 3,
            actual: Some("2".into()),
            message: None,
            detail: None,
        }];
        let report = assemble(RunRecord {
            task: &t,
            frames: &frames,
            malformed: None,
            ending: Ending::WallClock,
            image_id: "sha256:x",
            duration_ms: 9,
        });
        assert_eq!(report.verdict, Verdict::TimeLimit);
        assert_eq!(report.tests[0].actual.as_deref(), Some("2"));
        let hidden = &report.tests[1];
        assert!(
            hidden.hidden
                && hidden.input.is_none()
                && hidden.message.is_none()
                && hidden.actual.is_none()
        );
        assert!((report.score - 0.25).abs() < 1e-9);
    }

    #[test]
    fn a_vanished_harness_is_never_accepted() {
        let t = task();
        let report = assemble(RunRecord {
            task: &t,
            frames: &[],
            malformed: None,
            ending: Ending::Vanished {
                exit_code: Some(137),
            },
            image_id: "",
            duration_ms: 0,
        });
        assert_eq!(report.verdict, Verdict::RuntimeError);
        assert_eq!(report.score, 0.0);
    }

    #[test]
    fn a_harness_that_ends_any_other_way_is_our_fault() {
        let t = task();
        for exit_code in [Some(70), Some(1), Some(139), None] {
            let report = assemble(RunRecord {
                task: &t,
                frames: &[],
                malformed: None,
                ending: Ending::Vanished { exit_code },
                image_id: "",
                duration_ms: 0,
            });
            assert_eq!(report.verdict, Verdict::InternalError, "{exit_code:?}");
            assert!(report
                .diagnostics
                .as_deref()
                .unwrap_or("")
                .contains("stopped unexpectedly"));
        }
    }

    #[test]
    fn one_internal_test_makes_the_run_internal_and_is_named() {
        let t = task();
        let frames = vec![
            Frame::Test {
                index: 0,
                verdict: Verdict::WrongAnswer,
                time_ms: 3,
                actual: Some("1".into()),
                message: None,
                detail: None,
            },
            Frame::Test {
                index: 1,
                verdict: Verdict::InternalError,
                time_ms: 7,
                actual: None,
                message: Some("does not compile: SyntaxError at line 1".into()),
                detail: Some("harness.py:1".into()),
            },
            Frame::Done,
        ];
        let report = assemble(RunRecord {
            task: &t,
            frames: &frames,
            malformed: None,
            ending: Ending::Finished,
            image_id: "",
            duration_ms: 40,
        });
        assert_eq!(report.verdict, Verdict::InternalError);
        assert_eq!(
            report.diagnostics.as_deref(),
            Some("test `b` does not compile: SyntaxError at line 1")
        );
        // Test `b` is hidden: no message, no time, and the run's length is not told either.
        assert!(report.tests[1].message.is_none() && report.tests[1].time_ms == 0);
        assert_eq!(report.duration_ms, 0);
        assert_eq!(report.tests[0].time_ms, 3);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 3), "é…");
    }
}
