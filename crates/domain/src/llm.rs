//! What Campus asks of a language model, and the rules around it: the port
//! ([`LanguageModel`]), the prompts (feedback on a graded attempt, a task draft for a teacher)
//! and the checks on what comes back. No I/O here; `llm` implements the port over HTTP.
//!
//! What a prompt may contain is a rule of its own: feedback is shown to the student, so the
//! prompt never carries a hidden test's input or expected output, nor the reference solution.

use crate::attempt::{Attempt, AttemptInput, AttemptStatus, Feedback};
use crate::content::{check_text, TextKind};
use crate::grading::{GradeReport, Verdict};
use crate::task::{CodeTask, Task, TaskData, TaskKind};
use crate::{FieldError, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }
}

/// Why the model gave no usable answer. None of these is the caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// Not reachable, timed out, or a 5xx: worth trying again later.
    #[error("the language model is unavailable: {0}")]
    Unavailable(String),
    /// The provider's own rate limit (429).
    #[error("the language model is rate limited")]
    RateLimited,
    /// The provider refused the request (a 4xx other than 429): a configuration problem.
    #[error("the language model refused the request: {0}")]
    Refused(String),
    /// An answer came back but it is not what was asked for.
    #[error("the language model's answer is unusable: {0}")]
    Malformed(String),
}

/// A chat-completion model.
#[async_trait::async_trait]
pub trait LanguageModel: Send + Sync {
    /// Who writes the answers, stored as the author of feedback (`llm:<model>`).
    fn name(&self) -> String;

    /// The model's answer to `messages`, at most `max_tokens` long.
    async fn chat(&self, messages: &[ChatMessage], max_tokens: u32) -> Result<String, LlmError>;
}

/// Longest feedback kept; a longer answer is cut at a character boundary.
pub const MAX_FEEDBACK_CHARS: usize = 4000;
/// Student code beyond this is cut from the prompt (the sandbox accepts more).
const MAX_CODE_CHARS: usize = 20_000;
/// Per visible test, the output shown to the model.
const MAX_OUTPUT_CHARS: usize = 1000;

const FEEDBACK_SYSTEM: &str = "You are a patient programming tutor on a learning platform. A student \
submitted a Python program for a task; it was run against the task's tests. Explain briefly what \
went well and what to look at next. Point at the idea, the line or the case that fails, and ask a \
guiding question. Never write the corrected program or a full solution. Answer in at most 150 words, \
in plain Markdown.";

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The prompt for feedback on a graded code attempt. Hidden tests appear by verdict only; the
/// reference solution never appears.
pub fn feedback_prompt(task: &CodeTask, code: &str, report: &GradeReport) -> Vec<ChatMessage> {
    let mut tests = String::new();
    for (i, t) in report.tests.iter().enumerate() {
        if t.hidden {
            tests.push_str(&format!("- hidden test {}: {}\n", i + 1, t.verdict));
            continue;
        }
        tests.push_str(&format!("- test `{}`: {}\n", t.name, t.verdict));
        for (label, value) in [
            ("input", &t.input),
            ("expected", &t.expected),
            ("actual output", &t.actual),
            ("message", &t.message),
        ] {
            if let Some(v) = value {
                tests.push_str(&format!(
                    "  {label}:\n  ```\n{}\n  ```\n",
                    cut(v, MAX_OUTPUT_CHARS)
                ));
            }
        }
    }
    let diagnostics = report
        .diagnostics
        .as_deref()
        .map(|d| format!("\nDiagnostics:\n```\n{}\n```\n", cut(d, MAX_OUTPUT_CHARS)))
        .unwrap_or_default();
    let user = format!(
        "Task:\n{}\n\nStudent's program:\n```python\n{}\n```\n\nOverall verdict: {} (score {:.0}%)\n\nTests:\n{}{}",
        task.statement,
        cut(code, MAX_CODE_CHARS),
        report.verdict,
        report.score * 100.0,
        tests,
        diagnostics
    );
    vec![
        ChatMessage::system(FEEDBACK_SYSTEM),
        ChatMessage::user(user),
    ]
}

/// Whether an attempt with this report gets feedback: graded (not our failure) code.
pub fn wants_feedback(report: &GradeReport) -> bool {
    report.verdict != Verdict::InternalError
}

/// The model's answer as stored feedback: trimmed, bounded, not empty.
pub fn feedback_from_reply(reply: &str) -> Result<String, LlmError> {
    let text = reply.trim();
    if text.is_empty() {
        return Err(LlmError::Malformed("the answer is empty".into()));
    }
    Ok(cut(text, MAX_FEEDBACK_CHARS))
}

/// The feedback prompt for a finished attempt, or `None` when it gets no feedback (not code,
/// not finished, failed on our side, or its task is no longer a code task).
pub fn feedback_request(attempt: &Attempt, task: &Task) -> Option<Vec<ChatMessage>> {
    let (AttemptInput::Code { code }, TaskData::Code(code_task), Some(report)) =
        (&attempt.input, &task.data, &attempt.report)
    else {
        return None;
    };
    (attempt.status == AttemptStatus::Done && wants_feedback(report))
        .then(|| feedback_prompt(code_task, code, report))
}

/// The feedback record for a model's answer about `attempt_id`.
pub fn new_feedback(
    attempt_id: Uuid,
    reply: &str,
    author: String,
    now: Timestamp,
) -> Result<Feedback, LlmError> {
    Ok(Feedback {
        id: Uuid::new_v4(),
        attempt_id,
        body: feedback_from_reply(reply)?,
        author,
        created_at: now,
    })
}

/// What a teacher asks a draft for.
#[derive(Debug, Clone)]
pub struct DraftRequest {
    pub kind: TaskKind,
    /// What the task should be about, in the teacher's words.
    pub brief: String,
    /// The lesson it is for, as context (title), if any.
    pub lesson_title: Option<String>,
}

/// A task draft as the model proposes it: a title and the task data as JSON, to be checked
/// against the kind's schema by the caller (the same check as a teacher's own task).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDraft {
    pub title: String,
    pub data: serde_json::Value,
}

fn draft_schema(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Code => {
            r#"{"title": "...", "data": {"kind": "code", "statement": "Markdown", "starterCode": "def f(...):\n    pass\n", "entryPoint": "f", "tests": [{"name": "example", "weight": 1, "hidden": false, "body": {"assert": {"code": "assert f(2) == 4"}}}, {"name": "io example", "body": {"io": {"stdin": "2\n", "expected": "4\n"}}}], "referenceSolution": "def f(x):\n    return x * 2\n"}}"#
        }
        TaskKind::Quiz => {
            r#"{"title": "...", "data": {"kind": "quiz", "questions": [{"prompt": "Markdown", "options": ["a", "b", "c"], "correct": [1], "explanation": "why"}]}}"#
        }
        TaskKind::Reading => r#"{"title": "...", "data": {"kind": "reading", "body": "Markdown"}}"#,
    }
}

/// The prompt for a task draft of `request.kind`, asking for one JSON object of a fixed shape.
pub fn draft_prompt(request: &DraftRequest) -> Vec<ChatMessage> {
    let system = format!(
        "You write exercises for a Python programming course. Answer with exactly one JSON object \
         and nothing else, shaped like this example (same field names, camelCase):\n{}\n\
         Tests must pass for the reference solution. Keep statements short and precise.",
        draft_schema(request.kind)
    );
    let lesson = request
        .lesson_title
        .as_deref()
        .map(|t| format!(" It belongs to the lesson \"{t}\"."))
        .unwrap_or_default();
    let user = format!(
        "Write a {} task.{lesson} The teacher asks for: {}",
        request.kind, request.brief
    );
    vec![ChatMessage::system(system), ChatMessage::user(user)]
}

/// Reads a draft out of the model's answer: one JSON object, possibly inside a Markdown code
/// fence, with `title` and a `data` object whose `kind` is the one asked for. The data's own
/// schema is checked by the caller.
pub fn parse_draft(reply: &str, kind: TaskKind) -> Result<TaskDraft, Vec<FieldError>> {
    let text = reply.trim();
    let json = match (text.find('{'), text.rfind('}')) {
        (Some(start), Some(end)) if start < end => &text[start..=end],
        _ => {
            return Err(vec![FieldError::new(
                "draft",
                "the model's answer holds no JSON object",
            )])
        }
    };
    let draft: TaskDraft = serde_json::from_str(json).map_err(|e| {
        vec![FieldError::new(
            "draft",
            format!("the model's answer is not a draft: {e}"),
        )]
    })?;
    let mut errors = Vec::new();
    let title = draft.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new(
            "draft.title",
            "must be 1 to 200 characters",
        ));
    } else if let Err(e) = check_text("draft.title", title, TextKind::SingleLine) {
        errors.push(e);
    }
    match draft.data.get("kind").and_then(|k| k.as_str()) {
        Some(k) if k == kind.to_string() => {}
        _ => errors.push(FieldError::new(
            "draft.data.kind",
            format!("must be \"{kind}\", as asked"),
        )),
    }
    if errors.is_empty() {
        Ok(TaskDraft {
            title: title.to_string(),
            data: draft.data,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::grading::TestOutcome;
    use crate::task::{Limits, TestBody, TestCase};

    fn outcome(name: &str, hidden: bool, verdict: Verdict) -> TestOutcome {
        TestOutcome {
            name: name.into(),
            verdict,
            passed: verdict == Verdict::Accepted,
            time_ms: 3,
            weight: 1,
            hidden,
            input: Some(format!("{name}-INPUT")),
            expected: Some(format!("{name}-EXPECTED")),
            actual: Some(format!("{name}-ACTUAL")),
            message: None,
        }
    }

    fn task() -> CodeTask {
        CodeTask {
            statement: "Add two numbers.".into(),
            starter_code: String::new(),
            limits: Limits::default(),
            entry_point: None,
            tests: vec![TestCase {
                name: "t".into(),
                weight: 1,
                hidden: false,
                body: TestBody::Io(crate::task::IoTest {
                    stdin: String::new(),
                    expected: "1".into(),
                    checker: Default::default(),
                }),
            }],
            reference_solution: Some("REFERENCE-SOLUTION-TEXT".into()),
        }
    }

    #[test]
    fn the_feedback_prompt_never_carries_hidden_tests_or_the_reference_solution() {
        let report = GradeReport {
            verdict: Verdict::WrongAnswer,
            score: 0.5,
            tests: vec![
                outcome("shown", false, Verdict::Accepted),
                outcome("secret", true, Verdict::WrongAnswer),
            ],
            diagnostics: None,
            image_id: String::new(),
            limits: Limits::default(),
            duration_ms: 10,
        };
        let prompt = feedback_prompt(&task(), "print(1)", &report);
        let all: String = prompt.iter().map(|m| m.content.clone()).collect();
        assert!(all.contains("shown-INPUT") && all.contains("shown-ACTUAL"));
        assert!(all.contains("print(1)") && all.contains("Add two numbers."));
        assert!(all.contains("hidden test 2: wrong_answer"), "{all}");
        for secret in ["secret", "REFERENCE-SOLUTION-TEXT"] {
            assert!(!all.contains(secret), "{secret} leaked into: {all}");
        }
    }

    #[test]
    fn feedback_replies_are_trimmed_bounded_and_never_empty() {
        assert_eq!(feedback_from_reply("  good  \n").unwrap(), "good");
        assert!(matches!(
            feedback_from_reply(" \n "),
            Err(LlmError::Malformed(_))
        ));
        let long = "é".repeat(MAX_FEEDBACK_CHARS + 10);
        assert_eq!(
            feedback_from_reply(&long).unwrap().chars().count(),
            MAX_FEEDBACK_CHARS + 1
        );
    }

    #[test]
    fn a_draft_is_read_from_a_fenced_answer_and_its_kind_is_checked() {
        let reply = "Here you go:\n```json\n{\"title\": \" Double \", \"data\": {\"kind\": \"quiz\", \"questions\": []}}\n```";
        let d = parse_draft(reply, TaskKind::Quiz).unwrap();
        assert_eq!(d.title, "Double");
        assert_eq!(d.data["kind"], "quiz");
        let wrong = parse_draft(reply, TaskKind::Code).unwrap_err();
        assert_eq!(wrong[0].field, "draft.data.kind");
        let none = parse_draft("I cannot help with that.", TaskKind::Code).unwrap_err();
        assert_eq!(none[0].field, "draft");
        let bad = parse_draft("{\"title\": 3}", TaskKind::Code).unwrap_err();
        assert_eq!(bad[0].field, "draft");
    }

    /// The example shape the model is shown must itself be a valid task of its kind, or the
    /// model would be taught field names the schema refuses.
    #[test]
    fn every_draft_example_is_a_valid_task_of_its_kind() {
        for kind in [TaskKind::Code, TaskKind::Quiz, TaskKind::Reading] {
            let draft = parse_draft(draft_schema(kind), kind).unwrap();
            let data: crate::task::TaskData = serde_json::from_value(draft.data).unwrap();
            assert_eq!(data.kind(), kind);
            data.validate().unwrap();
        }
    }

    #[test]
    fn the_draft_prompt_names_the_kind_and_the_brief() {
        let p = draft_prompt(&DraftRequest {
            kind: TaskKind::Code,
            brief: "reverse a string".into(),
            lesson_title: Some("Strings".into()),
        });
        assert!(p[0].content.contains("\"kind\": \"code\""));
        assert!(p[1].content.contains("reverse a string") && p[1].content.contains("Strings"));
    }
}
