//! Tasks and their typed data. Task data is JSON in the database, but it is never trusted as
//! such: every write and every read goes through [`TaskData::validate`].

use crate::{
    content::{check_text, Slug, TextKind},
    error::FieldError,
    string_enum, Timestamp,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

string_enum! {
    pub enum TaskKind {
        Reading => "reading",
        Quiz => "quiz",
        Code => "code",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: Uuid,
    pub lesson_id: Uuid,
    pub slug: Slug,
    pub title: String,
    pub position: i32,
    pub published: bool,
    pub data: TaskData,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Task {
    pub fn kind(&self) -> TaskKind {
        self.data.kind()
    }
}

/// A task's content, one shape per kind. The JSON carries the kind as `"kind"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TaskData {
    Reading(ReadingTask),
    Quiz(QuizTask),
    Code(CodeTask),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadingTask {
    /// Markdown.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuizTask {
    pub questions: Vec<QuizQuestion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuizQuestion {
    pub prompt: String,
    pub options: Vec<String>,
    /// Indexes into `options` of the right answers; more than one makes it a multiple choice.
    pub correct: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeTask {
    /// Markdown.
    pub statement: String,
    #[serde(default)]
    pub starter_code: String,
    #[serde(default)]
    pub limits: Limits,
    /// The function assert-style tests call, e.g. `has_close_elements`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<String>,
    pub tests: Vec<TestCase>,
    /// A known-good solution. When present it must pass the task's own tests before publishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_solution: Option<String>,
}

/// Resources one submission may use. `time_ms` is the wall-clock budget of each test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    pub time_ms: u32,
    pub memory_mb: u32,
    pub output_kb: u32,
}

impl Limits {
    pub const TIME_MS: std::ops::RangeInclusive<u32> = 100..=20_000;
    pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 32..=1024;
    pub const OUTPUT_KB: std::ops::RangeInclusive<u32> = 1..=4096;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time_ms: 2_000,
            memory_mb: 128,
            output_kb: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// Hidden tests report only passed or failed, never their input or output.
    #[serde(default)]
    pub hidden: bool,
    #[serde(default = "default_weight")]
    pub weight: u32,
    pub body: TestBody,
}

fn default_weight() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum TestBody {
    /// Feed `stdin` to the program, compare its stdout with `expected` using `checker`.
    Io(IoTest),
    /// Run `code` after the student's program; it passes when it raises nothing. The HumanEval
    /// form is `code = "<check function>\ncheck(entry_point)"`.
    Assert(AssertTest),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IoTest {
    #[serde(default)]
    pub stdin: String,
    pub expected: String,
    #[serde(default)]
    pub checker: Checker,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssertTest {
    pub code: String,
}

/// How program output is compared with the expected output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Checker {
    /// Byte for byte.
    Exact,
    /// Line by line, ignoring trailing whitespace on each line and trailing blank lines.
    #[default]
    Lines,
    /// Whitespace-separated tokens.
    Tokens,
    /// Tokens; numeric ones equal within `abs` or `rel` tolerance.
    Float { abs: f64, rel: f64 },
}

/// Size caps on what a teacher may store in one task.
pub const MAX_CODE_BYTES: usize = 64 * 1024;
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
pub const MAX_TESTS: usize = 500;

impl TaskData {
    pub fn kind(&self) -> TaskKind {
        match self {
            TaskData::Reading(_) => TaskKind::Reading,
            TaskData::Quiz(_) => TaskKind::Quiz,
            TaskData::Code(_) => TaskKind::Code,
        }
    }

    /// Checks everything serde cannot: sizes, ranges, references between fields. Field paths
    /// are relative to the task data (`tests[3].weight`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        match self {
            TaskData::Reading(r) => {
                if r.body.len() > MAX_TEXT_BYTES {
                    errs.push(FieldError::new("body", "is larger than 256 KiB"));
                }
                text("body", &r.body, TextKind::MultiLine, &mut errs);
            }
            TaskData::Quiz(q) => validate_quiz(q, &mut errs),
            TaskData::Code(c) => validate_code(c, &mut errs),
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// What a student may see: no hidden test content, no reference solution, no quiz answers.
    pub fn public_view(&self) -> TaskData {
        match self {
            TaskData::Reading(r) => TaskData::Reading(r.clone()),
            TaskData::Quiz(q) => TaskData::Quiz(QuizTask {
                questions: q
                    .questions
                    .iter()
                    .map(|qq| QuizQuestion {
                        correct: Vec::new(),
                        explanation: None,
                        ..qq.clone()
                    })
                    .collect(),
            }),
            TaskData::Code(c) => TaskData::Code(CodeTask {
                tests: c.tests.iter().filter(|t| !t.hidden).cloned().collect(),
                reference_solution: None,
                ..c.clone()
            }),
        }
    }
}

/// Control characters: one rule for every free-text field (`content::check_text`).
fn text(field: &str, value: &str, kind: TextKind, errs: &mut Vec<FieldError>) {
    if let Err(e) = check_text(field, value, kind) {
        errs.push(e);
    }
}

fn validate_quiz(q: &QuizTask, errs: &mut Vec<FieldError>) {
    if q.questions.is_empty() {
        errs.push(FieldError::new(
            "questions",
            "must hold at least one question",
        ));
    }
    for (i, qq) in q.questions.iter().enumerate() {
        let at = |f: &str| format!("questions[{i}].{f}");
        if qq.prompt.trim().is_empty() {
            errs.push(FieldError::new(at("prompt"), "must not be empty"));
        }
        text(&at("prompt"), &qq.prompt, TextKind::MultiLine, errs);
        for (k, o) in qq.options.iter().enumerate() {
            text(&at(&format!("options[{k}]")), o, TextKind::MultiLine, errs);
        }
        if let Some(e) = &qq.explanation {
            text(&at("explanation"), e, TextKind::MultiLine, errs);
        }
        if qq.options.len() < 2 {
            errs.push(FieldError::new(
                at("options"),
                "must hold at least two options",
            ));
        }
        if qq.correct.is_empty() {
            errs.push(FieldError::new(
                at("correct"),
                "must name at least one right option",
            ));
        }
        if qq.correct.iter().any(|&c| c as usize >= qq.options.len()) {
            errs.push(FieldError::new(
                at("correct"),
                "names an option that does not exist",
            ));
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn validate_code(c: &CodeTask, errs: &mut Vec<FieldError>) {
    if c.statement.trim().is_empty() {
        errs.push(FieldError::new("statement", "must not be empty"));
    }
    if c.statement.len() > MAX_TEXT_BYTES {
        errs.push(FieldError::new("statement", "is larger than 256 KiB"));
    }
    if c.starter_code.len() > MAX_CODE_BYTES {
        errs.push(FieldError::new("starterCode", "is larger than 64 KiB"));
    }
    text("statement", &c.statement, TextKind::MultiLine, errs);
    text("starterCode", &c.starter_code, TextKind::MultiLine, errs);
    if let Some(r) = &c.reference_solution {
        text("referenceSolution", r, TextKind::MultiLine, errs);
    }
    if c.reference_solution
        .as_ref()
        .is_some_and(|s| s.len() > MAX_CODE_BYTES)
    {
        errs.push(FieldError::new(
            "referenceSolution",
            "is larger than 64 KiB",
        ));
    }
    let l = c.limits;
    if !Limits::TIME_MS.contains(&l.time_ms) {
        errs.push(FieldError::new(
            "limits.timeMs",
            "must be between 100 and 20000",
        ));
    }
    if !Limits::MEMORY_MB.contains(&l.memory_mb) {
        errs.push(FieldError::new(
            "limits.memoryMb",
            "must be between 32 and 1024",
        ));
    }
    if !Limits::OUTPUT_KB.contains(&l.output_kb) {
        errs.push(FieldError::new(
            "limits.outputKb",
            "must be between 1 and 4096",
        ));
    }
    if let Some(ep) = &c.entry_point {
        if !is_identifier(ep) {
            errs.push(FieldError::new("entryPoint", "must be a Python identifier"));
        }
    }
    if c.tests.is_empty() {
        errs.push(FieldError::new("tests", "must hold at least one test"));
    }
    if c.tests.len() > MAX_TESTS {
        errs.push(FieldError::new("tests", "must hold at most 500 tests"));
    }
    let mut names = std::collections::HashSet::new();
    for (i, t) in c.tests.iter().enumerate() {
        let at = |f: &str| format!("tests[{i}].{f}");
        if t.name.trim().is_empty() || t.name.len() > 200 {
            errs.push(FieldError::new(at("name"), "must be 1 to 200 characters"));
        } else if let Err(e) = check_text(&at("name"), &t.name, TextKind::SingleLine) {
            errs.push(e);
        } else if !names.insert(t.name.as_str()) {
            errs.push(FieldError::new(
                at("name"),
                "is used by another test of this task",
            ));
        }
        if t.weight == 0 || t.weight > 1000 {
            errs.push(FieldError::new(at("weight"), "must be between 1 and 1000"));
        }
        match &t.body {
            TestBody::Io(io) => {
                if io.stdin.len() > MAX_TEXT_BYTES || io.expected.len() > MAX_TEXT_BYTES {
                    errs.push(FieldError::new(
                        at("body.io"),
                        "stdin and expected must each be at most 256 KiB",
                    ));
                }
                text(&at("body.io.stdin"), &io.stdin, TextKind::Data, errs);
                text(&at("body.io.expected"), &io.expected, TextKind::Data, errs);
                if let Checker::Float { abs, rel } = io.checker {
                    if !(abs.is_finite() && rel.is_finite() && abs >= 0.0 && rel >= 0.0) {
                        errs.push(FieldError::new(
                            at("body.io.checker"),
                            "float tolerances must be finite and non-negative",
                        ));
                    }
                }
            }
            TestBody::Assert(a) => {
                if c.entry_point.is_none() {
                    errs.push(FieldError::new(
                        "entryPoint",
                        "is required by assert-style tests",
                    ));
                }
                if a.code.trim().is_empty() || a.code.len() > MAX_TEXT_BYTES {
                    errs.push(FieldError::new(
                        at("body.assert.code"),
                        "must be 1 byte to 256 KiB",
                    ));
                }
                text(&at("body.assert.code"), &a.code, TextKind::MultiLine, errs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn code_task() -> CodeTask {
        CodeTask {
            statement: "Add two numbers".into(),
            starter_code: String::new(),
            limits: Limits::default(),
            entry_point: None,
            tests: vec![TestCase {
                name: "sample".into(),
                hidden: false,
                weight: 1,
                body: TestBody::Io(IoTest {
                    stdin: "1 2\n".into(),
                    expected: "3\n".into(),
                    checker: Checker::Lines,
                }),
            }],
            reference_solution: Some("print(sum(map(int, input().split())))".into()),
        }
    }

    #[test]
    fn task_data_json_round_trips_with_camel_case_and_kind_tag() {
        let data = TaskData::Code(code_task());
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(json["kind"], "code");
        assert!(json.get("starterCode").is_some());
        assert!(json.get("referenceSolution").is_some());
        assert_eq!(json["limits"]["timeMs"], 2000);
        assert_eq!(json["tests"][0]["body"]["io"]["checker"]["type"], "lines");
        let back: TaskData = serde_json::from_value(json).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn unknown_fields_in_task_data_are_refused() {
        let mut json = serde_json::to_value(TaskData::Code(code_task())).unwrap();
        json["limits"]["timeMS"] = 5.into();
        assert!(serde_json::from_value::<TaskData>(json).is_err());
    }

    #[test]
    fn assert_tests_need_an_entry_point_and_errors_name_the_field() {
        let mut c = code_task();
        c.tests[0].body = TestBody::Assert(AssertTest {
            code: "assert f(1) == 2".into(),
        });
        c.tests[0].weight = 0;
        let errs = TaskData::Code(c).validate().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"entryPoint"), "{fields:?}");
        assert!(fields.contains(&"tests[0].weight"), "{fields:?}");
    }

    #[test]
    fn public_view_hides_hidden_tests_solution_and_quiz_answers() {
        let mut c = code_task();
        c.tests.push(TestCase {
            name: "secret".into(),
            hidden: true,
            ..c.tests[0].clone()
        });
        let view = TaskData::Code(c).public_view();
        let TaskData::Code(v) = view else {
            panic!("kind changed")
        };
        assert_eq!(v.tests.len(), 1);
        assert!(v.reference_solution.is_none());

        let q = TaskData::Quiz(QuizTask {
            questions: vec![QuizQuestion {
                prompt: "2+2?".into(),
                options: vec!["3".into(), "4".into()],
                correct: vec![1],
                explanation: Some("arithmetic".into()),
            }],
        });
        let TaskData::Quiz(v) = q.public_view() else {
            panic!("kind changed")
        };
        assert!(v.questions[0].correct.is_empty());
        assert!(v.questions[0].explanation.is_none());
    }
}
