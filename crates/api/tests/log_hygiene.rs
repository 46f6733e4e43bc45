//! Logs keep secrets out: a full sign-in, refresh, exchange, logout and a graded code
//! submission run against a real server (and the real sandbox) while every log line of the
//! process is captured at TRACE level; none may contain a password, token, API key, OAuth
//! subject, the language model's key, the student's code or what the model wrote about it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, TestApp, TEST_API_KEY, TEST_JWT_SECRET};
use serde_json::{json, Value};
use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Everything this process logs from now on, at every level and from every crate.
fn capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    captured
}

const PASSWORD: &str = "pw-Zq8!hunter-7731";
const STUDENT_CODE_MARKER: &str = "STUDENT_CODE_MARKER_5c1e";
const LLM_KEY: &str = "sk-llm-key-4b7e19d0";
const FEEDBACK_MARKER: &str = "FEEDBACK_MARKER_77aa";

fn course() -> domain::course::Course {
    serde_json::from_value(json!({"topics": [{
        "slug": "basics", "title": "Basics",
        "lessons": [{"slug": "sum", "title": "Sum", "tasks": [{
            "slug": "sum", "title": "Sum",
            "data": {
                "kind": "code",
                "statement": "Print the sum of two numbers.",
                "starterCode": "",
                "tests": [{"name": "sample", "body": {"io": {"stdin": "1 2\n", "expected": "3\n"}}}]
            }
        }]}]
    }]}))
    .unwrap()
}

/// The hook for submissions: submits code to the course's task and waits for its verdict.
/// Returns the code, which must then appear in no log line.
async fn submit_code_and_wait(app: &TestApp, token: &str) -> String {
    let c = course();
    app.db(move |db| db.import_course(&c, chrono::Utc::now()).unwrap())
        .await;
    let task_id = app
        .db(|db| {
            let (_, lessons) = db.outline(true).unwrap().into_iter().next().unwrap();
            db.tasks(lessons[0].id, true).unwrap()[0].id
        })
        .await;
    let code = format!("a, b = map(int, input().split())\nprint(a + b)  # {STUDENT_CODE_MARKER}\n");
    let res = app
        .post(&format!("/tasks/{task_id}/submissions"))
        .bearer_auth(token)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let accepted: Value = res.json().await.unwrap();
    let attempt = accepted["attemptId"].as_str().unwrap().to_string();
    for _ in 0..60 {
        let a: Value = app
            .get(&format!("/attempts/{attempt}?wait=5"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if a["status"] == "done" {
            assert_eq!(a["verdict"], "accepted", "{a}");
            return code;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the submission was not graded in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_leaves_no_secret_in_the_logs() {
    let logs = capture();
    // The real sandbox: this test needs Docker and the image, and fails without them.
    let llm_fake = llm::testing::FakeLlm::start(vec![llm::testing::Reply::Answer(format!(
        "Well done. {FEEDBACK_MARKER}"
    ))])
    .await
    .unwrap();
    let config = test_config(&[
        ("LLM_BASE_URL", llm_fake.url.as_str()),
        ("LLM_MODEL", "tutor"),
        ("LLM_API_KEY", LLM_KEY),
    ]);
    let grader = api::grading::connect(&config).await;
    grader
        .ready()
        .await
        .expect("the sandbox grader (Docker + campus-sandbox image)");
    let (db, dir) = tokio::task::spawn_blocking(persistence::testing::fresh_sqlite)
        .await
        .unwrap();
    let app = TestApp::start(config, Arc::new(db), Some(grader), Some(dir)).await;

    let name = common::unique_name("logcheck");
    let reg: Value = app.register(&name, PASSWORD).await.json().await.unwrap();
    let login: Value = app.login(&name, PASSWORD).await.json().await.unwrap();
    let wrong = app.login(&name, "wrong-pw-Zq8!-9932").await;
    assert_eq!(wrong.status(), 401);
    let access = login["accessToken"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/me")
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let refreshed: Value = app
        .post("/auth/refresh")
        .json(&json!({"refreshToken": login["refreshToken"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A replay, so the reuse warning is logged too.
    let replay = app
        .post("/auth/refresh")
        .json(&json!({"refreshToken": login["refreshToken"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    let subject = "oauth-subject-8d2f61";
    let exchanged: Value = app
        .post("/auth/exchange")
        .header("x-api-key", TEST_API_KEY)
        .json(&json!({"provider": "github", "subject": subject}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wrong_key = app
        .post("/auth/exchange")
        .header("x-api-key", "guessed-key-123")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status(), 401);
    let code = submit_code_and_wait(&app, &access).await;
    // The feedback writer asked the model about the attempt (prompt: the student's code).
    for _ in 0..50 {
        if !llm_fake.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let prompt = llm_fake.requests()[0].body.to_string();
    assert!(prompt.contains(STUDENT_CODE_MARKER) && llm_fake.requests()[0].authorization.is_some());
    let bad_body = app
        .post("/auth/login")
        .header("content-type", "application/json")
        .body(format!("{{\"username\": 5, \"password\": \"{PASSWORD}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_body.status(), 400);
    app.post("/auth/logout")
        .json(&json!({"refreshToken": refreshed["refreshToken"]}))
        .send()
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = logs.text();
    assert!(
        text.contains("request finished") && text.contains("account registered"),
        "logs were captured"
    );
    assert!(text.contains("request_id="), "request lines carry their id");

    let mut secrets: Vec<(&str, String)> = vec![
        ("password", PASSWORD.to_string()),
        ("wrong password", "wrong-pw-Zq8!-9932".to_string()),
        ("JWT secret", TEST_JWT_SECRET.to_string()),
        ("API key", TEST_API_KEY.to_string()),
        ("guessed API key", "guessed-key-123".to_string()),
        ("OAuth subject", subject.to_string()),
        ("student code", STUDENT_CODE_MARKER.to_string()),
        ("language model key", LLM_KEY.to_string()),
        ("language model's feedback", FEEDBACK_MARKER.to_string()),
        (
            "student code line",
            code.lines().nth(1).unwrap().to_string(),
        ),
    ];
    for (what, body) in [
        ("register", &reg),
        ("login", &login),
        ("refresh", &refreshed),
        ("exchange", &exchanged),
    ] {
        for field in ["accessToken", "refreshToken"] {
            let token = body[field].as_str().unwrap().to_string();
            // The JWT's signature part alone is enough to count as a leak.
            let tail = token.rsplit('.').next().unwrap().to_string();
            secrets.push((what, tail));
        }
    }
    for (what, secret) in secrets {
        assert!(!text.contains(&secret), "the logs contain the {what}");
    }
}
