//! The language model over HTTP, against a fake OpenAI-compatible server on 127.0.0.1:
//! feedback on graded code attempts (stored after the verdict, never holding a hidden test or
//! the reference solution, never delaying or failing the attempt) and task drafts for teachers
//! (checked against the kind's schema, 502 naming the field when the model's draft is invalid,
//! 503 when no model is configured or it is down).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use domain::{
    grading::{GradeError, GradeReport, Grader, TestOutcome, Verdict},
    ports::ContentRepo,
    task::{CodeTask, TestBody},
    user::Role,
};
use learning_common::{ids, small_course, test_config_with, App, REFERENCE};
use llm::testing::{FakeLlm, Reply};
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};

/// Wrong answer on every test, reporting each io test's real stdin and expected output, as the
/// sandbox does (the API then hides what hidden tests hold).
struct AllWrong;

#[async_trait::async_trait]
impl Grader for AllWrong {
    async fn grade(&self, _code: &str, task: &CodeTask) -> Result<GradeReport, GradeError> {
        let tests: Vec<TestOutcome> = task
            .tests
            .iter()
            .map(|t| {
                let (input, expected) = match &t.body {
                    TestBody::Io(io) => (Some(io.stdin.clone()), Some(io.expected.clone())),
                    _ => (None, None),
                };
                TestOutcome {
                    name: t.name.clone(),
                    verdict: Verdict::WrongAnswer,
                    passed: false,
                    time_ms: 1,
                    weight: t.weight,
                    hidden: t.hidden,
                    input,
                    expected,
                    actual: Some("0\n".into()),
                    message: None,
                }
            })
            .collect();
        Ok(learning_common::stand_in_report(task, tests))
    }
}

async fn app_with_model(fake: &FakeLlm, extra: &[(&str, &str)]) -> App {
    let mut vars = vec![
        ("LLM_BASE_URL", fake.url.as_str()),
        ("LLM_MODEL", "tutor-model"),
        ("LLM_API_KEY", "sk-test-key-never-logged"),
        ("LLM_TIMEOUT_SECS", "2"),
        ("RATE_LIMIT_LLM", "off"),
    ];
    vars.extend_from_slice(extra);
    let (db, dir) = persistence::testing::fresh_sqlite();
    App::spawn_with(
        test_config_with(&vars),
        Arc::new(db),
        dir,
        Some(Arc::new(AllWrong)),
    )
    .await
}

/// Submits `code` to the `sum` task and waits for its verdict.
async fn graded_attempt(app: &App, token: &str) -> String {
    let task = ids(app)["task:sum"];
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(token),
            Some(json!({"code": "print(0)  # STUDENT-CODE"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["attemptId"].as_str().unwrap().to_string();
    let (status, a) = app.get(&format!("/attempts/{id}?wait=10"), token).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "done", "{a}");
    assert_eq!(a["verdict"], "wrong_answer");
    id
}

/// Reads the attempt until it has feedback (or 10 s pass).
async fn feedback_of(app: &App, id: &str, token: &str) -> Value {
    for _ in 0..100 {
        let (status, a) = app.get(&format!("/attempts/{id}"), token).await;
        assert_eq!(status, 200, "{a}");
        if a["feedback"].as_array().is_some_and(|f| !f.is_empty()) {
            return a["feedback"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Value::Array(vec![])
}

#[actix_web::test]
async fn a_graded_attempt_gets_the_models_feedback_without_hidden_tests_in_the_prompt() {
    let fake = FakeLlm::start(vec![Reply::Answer(
        "  Your program prints a constant. What should it print for `1 2`?  ".into(),
    )])
    .await
    .unwrap();
    let app = app_with_model(&fake, &[]).await;
    app.import(&small_course());
    let s = app.register(Role::Student).await;
    let id = graded_attempt(&app, &s.token).await;

    let feedback = feedback_of(&app, &id, &s.token).await;
    let list = feedback.as_array().unwrap();
    assert_eq!(list.len(), 1, "{feedback}");
    assert_eq!(
        list[0]["body"],
        "Your program prints a constant. What should it print for `1 2`?"
    );
    assert_eq!(list[0]["author"], "llm:tutor-model");
    assert!(list[0]["createdAt"].is_string() && list[0]["id"].is_string());

    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "one question per attempt");
    let req = &seen[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.authorization.as_deref(),
        Some("Bearer sk-test-key-never-logged")
    );
    assert_eq!(req.body["model"], "tutor-model");
    let prompt = req.body["messages"].to_string();
    assert!(
        prompt.contains("STUDENT-CODE"),
        "the program is in the prompt"
    );
    assert!(
        prompt.contains("Print the sum of two numbers."),
        "the statement too"
    );
    assert!(prompt.contains("1 2"), "a visible test's input is shown");
    for secret in ["40 2", "42", "secret-case", "REFERENCE-MARKER"] {
        assert!(
            !prompt.contains(secret),
            "the prompt leaks {secret:?}: {prompt}"
        );
    }
    assert!(REFERENCE.contains("REFERENCE-MARKER"));

    // Another student cannot read it; a teacher can.
    let other = app.register(Role::Student).await;
    assert_eq!(
        app.get(&format!("/attempts/{id}"), &other.token).await.0,
        404
    );
    let t = app.register(Role::Teacher).await;
    let (_, a) = app.get(&format!("/attempts/{id}"), &t.token).await;
    assert_eq!(a["feedback"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_model_that_is_down_leaves_the_verdict_alone_and_no_feedback() {
    let fake = FakeLlm::start(vec![Reply::Status(503)]).await.unwrap();
    let app = app_with_model(&fake, &[]).await;
    app.import(&small_course());
    let s = app.register(Role::Student).await;
    let id = graded_attempt(&app, &s.token).await;
    // The writer asks (one try and one retry) and gives up.
    for _ in 0..50 {
        if fake.requests().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fake.requests().len(), 2, "one retry after a 5xx");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, a) = app.get(&format!("/attempts/{id}"), &s.token).await;
    assert_eq!(a["verdict"], "wrong_answer");
    assert_eq!(a["feedback"], json!([]));
}

#[actix_web::test]
async fn feedback_off_asks_the_model_nothing_about_attempts() {
    let fake = FakeLlm::start(vec![Reply::Answer("unused".into())])
        .await
        .unwrap();
    let app = app_with_model(&fake, &[("LLM_FEEDBACK", "off")]).await;
    app.import(&small_course());
    let s = app.register(Role::Student).await;
    let id = graded_attempt(&app, &s.token).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(fake.requests().is_empty());
    let (_, a) = app.get(&format!("/attempts/{id}"), &s.token).await;
    assert_eq!(a["feedback"], json!([]));
}

fn code_draft_reply() -> String {
    let draft = json!({
        "title": "Double it",
        "data": {
            "kind": "code",
            "statement": "Write `double(x)` returning twice `x`.",
            "starterCode": "def double(x):\n    pass\n",
            "entryPoint": "double",
            "tests": [{"name": "two", "body": {"assert": {"code": "assert double(2) == 4"}}}],
            "referenceSolution": "def double(x):\n    return x * 2\n"
        }
    });
    format!("Here is the task:\n```json\n{draft:#}\n```\n")
}

#[actix_web::test]
async fn a_teacher_gets_a_checked_unsaved_draft_from_the_model() {
    let fake = FakeLlm::start(vec![Reply::Answer(code_draft_reply())])
        .await
        .unwrap();
    let app = app_with_model(&fake, &[]).await;
    app.import(&small_course());
    let lesson = ids(&app)["sum"];
    let t = app.register(Role::Teacher).await;
    let before = app.db.tasks(lesson, true).unwrap().len();
    let (status, body) = app
        .call(
            "POST",
            "/teacher/task-drafts",
            Some(&t.token),
            Some(json!({"kind": "code", "brief": "doubling numbers", "lessonId": lesson})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "Double it");
    assert_eq!(body["model"], "llm:tutor-model");
    assert_eq!(body["data"]["kind"], "code");
    assert_eq!(body["data"]["entryPoint"], "double");
    let prompt = fake.requests()[0].body["messages"].to_string();
    assert!(prompt.contains("doubling numbers") && prompt.contains("Lesson sum"));
    assert_eq!(
        app.db.tasks(lesson, true).unwrap().len(),
        before,
        "a draft is not stored"
    );

    // The draft's data is accepted as is by the task-creation route.
    let (status, created) = app
        .call(
            "POST",
            &format!("/teacher/lessons/{lesson}/tasks"),
            Some(&t.token),
            Some(json!({"slug": "double-it", "title": body["title"], "data": body["data"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    // Students may not ask for drafts.
    let s = app.register(Role::Student).await;
    let (status, _) = app
        .call(
            "POST",
            "/teacher/task-drafts",
            Some(&s.token),
            Some(json!({"kind": "code", "brief": "doubling numbers"})),
        )
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn an_invalid_draft_from_the_model_is_a_502_naming_what_is_wrong() {
    let wrong_kind = json!({"title": "Q", "data": {"kind": "quiz", "questions": []}}).to_string();
    let bad_data =
        json!({"title": "Q", "data": {"kind": "code", "statement": "s", "tests": []}}).to_string();
    let fake = FakeLlm::start(vec![Reply::Answer("I cannot help with that.".into())])
        .await
        .unwrap();
    let app = app_with_model(&fake, &[]).await;
    let t = app.register(Role::Teacher).await;
    for (reply, field) in [
        ("I cannot help with that.".to_string(), "draft"),
        (wrong_kind, "draft.data.kind"),
        (bad_data, "draft.data.tests"),
        (
            json!({"title": "two\nlines", "data": {"kind": "reading", "body": "x"}}).to_string(),
            "draft.title",
        ),
    ] {
        fake.set_script(vec![Reply::Answer(reply.clone())]);
        let (status, body) = app
            .call(
                "POST",
                "/teacher/task-drafts",
                Some(&t.token),
                Some(json!({"kind": "code", "brief": "anything at all"})),
            )
            .await;
        assert_eq!(status, 502, "{reply} -> {body}");
        assert_eq!(body["error"]["code"], "bad_gateway");
        let fields = learning_common::error_fields(&body);
        assert!(
            fields
                .iter()
                .any(|f| f == field || (field != "draft" && f.starts_with(field))),
            "{reply}: expected {field} in {fields:?}"
        );
    }
}

#[actix_web::test]
async fn drafts_answer_503_when_the_model_is_down_or_missing_and_422_for_a_bad_request() {
    let fake = FakeLlm::start(vec![Reply::Status(500)]).await.unwrap();
    let app = app_with_model(&fake, &[]).await;
    let t = app.register(Role::Teacher).await;
    let ask = |body: Value| app.call("POST", "/teacher/task-drafts", Some(&t.token), Some(body));
    let (status, body) = ask(json!({"kind": "quiz", "brief": "lists"})).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        !body["error"]["message"].as_str().unwrap().contains("500"),
        "the cause stays in the logs: {body}"
    );

    fake.set_script(vec![Reply::Slow(Duration::from_secs(5))]);
    let (status, _) = ask(json!({"kind": "quiz", "brief": "lists"})).await;
    assert_eq!(status, 503, "a model slower than LLM_TIMEOUT_SECS");

    // Each failure says what kind it is, without the provider's own words.
    for (reply, status, says) in [
        (Reply::Status(401), 502, "LLM_API_KEY"),
        (Reply::Status(429), 503, "rate limiting"),
        (Reply::Garbage, 502, "not a usable chat completion"),
    ] {
        fake.set_script(vec![reply]);
        let (got, body) = ask(json!({"kind": "quiz", "brief": "lists"})).await;
        assert_eq!(got, status, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("scripted failure"), "{message}");
    }

    for (body, field) in [
        (json!({"kind": "essay", "brief": "lists"}), "kind"),
        (json!({"kind": "quiz", "brief": "x"}), "brief"),
        (
            json!({"kind": "quiz", "brief": "lists", "extra": 1}),
            "extra",
        ),
        (
            json!({"kind": "quiz", "brief": "lists", "lessonId": uuid::Uuid::new_v4()}),
            "lessonId",
        ),
        (json!({"kind": "quiz", "brief": "a\u{0}b"}), "brief"),
    ] {
        let (status, res) = ask(body.clone()).await;
        assert_eq!(status, 422, "{body} -> {res}");
        assert!(
            res.to_string().contains(field),
            "{body}: the error names {field}: {res}"
        );
    }

    // No model configured at all.
    let plain = App::spawn(None).await;
    let t2 = plain.register(Role::Teacher).await;
    let (status, body) = plain
        .call(
            "POST",
            "/teacher/task-drafts",
            Some(&t2.token),
            Some(json!({"kind": "quiz", "brief": "lists"})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("LLM_BASE_URL"));
}
