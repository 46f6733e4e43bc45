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
#[serde(tag = "kind", rename_all = "camelCase")]
enum JobTest<'a> {
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
        .map(|t| match &t.body {
            TestBody::Io(io) => JobTest::Io {
                stdin: &io.stdin,
                expected: &io.expected,
                checker: io.checker,
            },
            TestBody::Assert(a) => JobTest::Assert { code: &a.code },
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
    },
    Syntax {
        message: String,
    },
    Done,
    Internal {
        message: String,
    },
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
        time_ms,
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

/// Builds the report. Tests without a result get the verdict of how the run ended.
pub fn assemble(r: RunRecord<'_>) -> GradeReport {
    let limits = r.task.limits;
    let mut tests: Vec<Option<TestOutcome>> = vec![None; r.task.tests.len()];
    let mut diagnostics = None;
    let mut syntax = false;
    let mut internal = r.malformed.map(|m| format!("malformed harness frame: {m}"));
    for f in r.frames {
        match f {
            Frame::Test {
                index,
                verdict,
                time_ms,
                actual,
                message,
            } => {
                if let Some(slot) = tests.get_mut(*index) {
                    *slot = outcome(
                        r.task,
                        *index,
                        *verdict,
                        *time_ms,
                        actual.clone(),
                        message.clone(),
                    );
                }
            }
            Frame::Syntax { message } => {
                syntax = true;
                diagnostics = Some(truncate(message, REPORT_BYTES));
            }
            Frame::Internal { message } => internal = Some(message.clone()),
            Frame::Done => {}
        }
    }
    if let Some(why) = internal {
        let mut report =
            GradeReport::internal(limits, &format!("the grading harness failed: {why}"));
        report.image_id = r.image_id.to_string();
        report.duration_ms = r.duration_ms;
        return report;
    }
    let (missing_verdict, missing_message) = if syntax {
        (
            Verdict::SyntaxError,
            "not run: the program has a syntax error",
        )
    } else {
        match &r.ending {
            Ending::Finished => (Verdict::InternalError, "the harness reported no result for this test"),
            Ending::WallClock => (Verdict::TimeLimit, "the run exceeded its total time limit"),
            Ending::OutputCap => (Verdict::OutputLimit, "the run wrote more than its output limit"),
            Ending::OutOfMemory => (Verdict::MemoryLimit, "the run ran out of memory"),
            Ending::Vanished { .. } => (
                Verdict::RuntimeError,
                "the program ended the grading harness (for example by killing it) before this test finished",
            ),
        }
    };
    if !syntax && r.ending != Ending::Finished && diagnostics.is_none() {
        diagnostics = Some(match &r.ending {
            Ending::Vanished { exit_code: Some(c) } => {
                format!("{missing_message} (container exit code {c})")
            }
            _ => missing_message.to_string(),
        });
    }
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
    let mut verdict = overall_verdict(&tests);
    if syntax {
        verdict = Verdict::SyntaxError;
    }
    if verdict == Verdict::InternalError && diagnostics.is_none() {
        diagnostics = Some("the harness reported no result for some tests".into());
    }
    if diagnostics.is_none() {
        diagnostics = tests
            .iter()
            .find(|t| !t.passed && !t.hidden)
            .and_then(|t| t.message.clone());
    }
    GradeReport {
        verdict,
        score: weighted_score(&tests),
        tests,
        diagnostics,
        image_id: r.image_id.to_string(),
        limits,
        duration_ms: r.duration_ms,
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
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 3), "é…");
    }
}
