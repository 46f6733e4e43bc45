//! Submissions over HTTP with a stand-in grader (the sandbox itself is tested in `sandbox` and
//! by `e2e_humaneval`): stored before grading, graded in the background, read by owner or
//! teacher, listed with pagination; quiz answers graded on the server; 503 with nothing stored
//! when grading is unavailable; unfinished attempts recovered at start-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use chrono::SubsecRound;
use domain::{
    attempt::{AttemptInput, AttemptStatus},
    grading::{GradeError, GradeReport, Grader, TestOutcome, Verdict},
    ports::AttemptRepo,
    services::submissions::new_attempt,
    task::CodeTask,
    user::Role,
};
use learning_common::{ids, small_course, App};
use serde_json::json;
use std::{sync::Arc, time::Duration};

/// Accepts programs that print `a + b`; everything else is a wrong answer. Takes `delay`.
struct StandIn {
    delay: Duration,
}

#[async_trait::async_trait]
impl Grader for StandIn {
    async fn grade(&self, code: &str, task: &CodeTask) -> Result<GradeReport, GradeError> {
        tokio::time::sleep(self.delay).await;
        let ok = code.contains("print(a + b)");
        let tests: Vec<TestOutcome> = task
            .tests
            .iter()
            .map(|t| TestOutcome {
                name: t.name.clone(),
                verdict: if ok {
                    Verdict::Accepted
                } else {
                    Verdict::WrongAnswer
                },
                passed: ok,
                time_ms: 1,
                weight: t.weight,
                hidden: t.hidden,
                input: Some("HIDDEN-INPUT".into()),
                expected: Some("HIDDEN-EXPECTED".into()),
                actual: None,
                message: None,
            })
            .collect();
        Ok(learning_common::stand_in_report(task, tests))
    }
}

/// Always down, as when Docker stops after start-up.
struct Down;

#[async_trait::async_trait]
impl Grader for Down {
    async fn grade(&self, _: &str, _: &CodeTask) -> Result<GradeReport, GradeError> {
        Err(GradeError::Unavailable("docker is not running".into()))
    }
}

#[actix_web::test]
async fn a_submission_is_stored_then_graded_in_the_background() {
    let app = App::spawn(Some(Arc::new(StandIn {
        delay: Duration::from_millis(300),
    })))
    .await;
    app.import(&small_course());
    let task = ids(&app)["task:sum"];
    let s = app.register(Role::Student).await;
    let code = "a, b = map(int, input().split())\nprint(a + b)\n";
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(&s.token),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "queued");
    let id: uuid::Uuid = body["attemptId"].as_str().unwrap().parse().unwrap();
    // Stored before it ran: the store has it at once, not yet done.
    let stored = app.db.attempt(id).unwrap().expect("stored before grading");
    assert_ne!(stored.status, AttemptStatus::Done);

    let (status, a) = app.get(&format!("/attempts/{id}?wait=10"), &s.token).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "done");
    assert_eq!(a["verdict"], "accepted");
    assert_eq!(a["score"], 1.0);
    assert_eq!(a["code"], code);
    let report = &a["report"];
    assert_eq!(
        report["tests"][0]["input"], "HIDDEN-INPUT",
        "visible tests show their input"
    );
    assert!(
        report["tests"][1]["input"].is_null(),
        "hidden tests never show theirs: {report}"
    );
    assert!(!a.to_string().contains("secret-case\",\"input"));

    // Owner and teachers read it; other students get 404.
    let other = app.register(Role::Student).await;
    assert_eq!(
        app.get(&format!("/attempts/{id}"), &other.token).await.0,
        404
    );
    let t = app.register(Role::Teacher).await;
    assert_eq!(app.get(&format!("/attempts/{id}"), &t.token).await.0, 200);

    // A wrong program, then the lists.
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(&s.token),
            Some(json!({"code": "print(0)"})),
        )
        .await;
    assert_eq!(status, 202);
    let wrong = body["attemptId"].as_str().unwrap().to_string();
    let (_, a) = app
        .get(&format!("/attempts/{wrong}?wait=10"), &s.token)
        .await;
    assert_eq!(a["verdict"], "wrong_answer");
    let (status, page) = app
        .get(&format!("/me/attempts?taskId={task}&limit=1"), &s.token)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], wrong, "newest first");
    let (_, page2) = app
        .get(
            &format!("/me/attempts?taskId={task}&limit=1&offset=1"),
            &s.token,
        )
        .await;
    assert_eq!(page2["items"][0]["id"], id.to_string());
    let (_, sols) = app.get("/me/solutions", &s.token).await;
    assert_eq!(sols["items"].as_array().unwrap().len(), 1);
    assert_eq!(sols["items"][0]["attemptId"], id.to_string());
    for bad in [
        "/me/attempts?limit=0",
        "/me/attempts?limit=101",
        "/me/attempts?taskId=x",
        "/me/solutions?offset=-1",
    ] {
        assert_eq!(app.get(bad, &s.token).await.0, 422, "{bad}");
    }
}

#[actix_web::test]
async fn submission_rules_are_enforced() {
    let app = App::spawn(Some(Arc::new(StandIn {
        delay: Duration::ZERO,
    })))
    .await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    let post = |task: uuid::Uuid, code: String| {
        let (app, tok) = (&app, s.token.clone());
        async move {
            app.call(
                "POST",
                &format!("/tasks/{task}/submissions"),
                Some(&tok),
                Some(json!({"code": code})),
            )
            .await
        }
    };
    let (status, body) = post(ids["task:quiz-1"], "print(1)".into()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "code");
    let (status, body) = post(ids["task:sum"], "#".repeat(64 * 1024 + 1)).await;
    assert_eq!(status, 413, "{body}");
    let (status, _) = post(ids["task:sum"], "   ".into()).await;
    assert_eq!(status, 422);
    let (status, _) = post(ids["task:sum-draft"], "print(1)".into()).await;
    assert_eq!(status, 404, "drafts take no student submissions");
    let (status, _) = post(uuid::Uuid::new_v4(), "print(1)".into()).await;
    assert_eq!(status, 404);
    assert!(
        app.db.attempts_of_task(ids["task:sum"]).unwrap().is_empty(),
        "refused submissions store nothing"
    );

    // Quiz answers: graded synchronously, malformed answers named.
    let quiz = ids["task:quiz-1"];
    let (status, a) = app
        .call(
            "POST",
            &format!("/tasks/{quiz}/quiz-answers"),
            Some(&s.token),
            Some(json!({"answers": [[1], [0]]})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "done");
    assert_eq!(a["verdict"], "wrong_answer");
    assert_eq!(a["score"], 0.5);
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{quiz}/quiz-answers"),
            Some(&s.token),
            Some(json!({"answers": [[1], [9]]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "answers[1]");
}

#[actix_web::test]
async fn without_a_sandbox_submissions_are_503_and_nothing_is_stored() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let task = ids(&app)["task:sum"];
    let s = app.register(Role::Student).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(&s.token),
            Some(json!({"code": "print(1)"})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(app.db.attempts_of_task(task).unwrap().is_empty());
}

/// A sandbox that is not reachable yet (the server started before Docker), then is.
struct NotYet {
    up: std::sync::atomic::AtomicBool,
    inner: StandIn,
}

#[async_trait::async_trait]
impl Grader for NotYet {
    async fn grade(&self, code: &str, task: &CodeTask) -> Result<GradeReport, GradeError> {
        self.ready().await?;
        self.inner.grade(code, task).await
    }
    async fn ready(&self) -> Result<(), GradeError> {
        if self.up.load(std::sync::atomic::Ordering::SeqCst) {
            Ok(())
        } else {
            Err(GradeError::Unavailable("docker is not running yet".into()))
        }
    }
}

#[actix_web::test]
async fn a_sandbox_that_comes_up_after_the_server_grades_without_a_restart() {
    let grader = Arc::new(NotYet {
        up: false.into(),
        inner: StandIn {
            delay: Duration::ZERO,
        },
    });
    let app = App::spawn(Some(grader.clone())).await;
    app.import(&small_course());
    let task = ids(&app)["task:sum"];
    let s = app.register(Role::Student).await;
    let path = format!("/tasks/{task}/submissions");
    let submit = || {
        app.call(
            "POST",
            &path,
            Some(&s.token),
            Some(json!({"code": "a, b = map(int, input().split())\nprint(a + b)\n"})),
        )
    };
    let (status, body) = submit().await;
    assert_eq!(status, 503, "{body}");
    assert!(
        app.db.attempts_of_task(task).unwrap().is_empty(),
        "nothing stored"
    );
    let (_, ready) = app.call("GET", "/ready", None, None).await;
    let check = |r: &serde_json::Value| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "grader")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(check(&ready), "degraded", "{ready}");

    grader.up.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = submit().await;
    assert_eq!(status, 202, "{body}");
    let id = body["attemptId"].as_str().unwrap();
    let (_, a) = app.get(&format!("/attempts/{id}?wait=10"), &s.token).await;
    assert_eq!(a["verdict"], "accepted", "{a}");
    let (_, ready) = app.call("GET", "/ready", None, None).await;
    assert_eq!(check(&ready), "ok", "{ready}");
}

#[actix_web::test]
async fn a_sandbox_that_goes_down_never_leaves_an_attempt_queued() {
    let app = App::spawn(Some(Arc::new(Down))).await;
    app.import(&small_course());
    let task = ids(&app)["task:sum"];
    let s = app.register(Role::Student).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(&s.token),
            Some(json!({"code": "print(1)"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["attemptId"].as_str().unwrap();
    let (_, a) = app.get(&format!("/attempts/{id}?wait=30"), &s.token).await;
    assert_eq!(a["status"], "done", "{a}");
    assert_eq!(a["verdict"], "internal_error");
    // While the breaker is open, new submissions are refused with nothing stored.
    let (status, _) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(&s.token),
            Some(json!({"code": "print(2)"})),
        )
        .await;
    assert_eq!(status, 503);
    assert_eq!(app.db.attempts_of_task(task).unwrap().len(), 1);
}

#[actix_web::test]
async fn attempts_a_crash_left_unfinished_are_graded_at_the_next_start() {
    let (db, dir) = persistence::testing::fresh_sqlite();
    let db = Arc::new(db);
    let app = App::spawn_on(db.clone(), dir, None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    // What a crash leaves: one attempt queued, one running (claimed an hour ago by an instance
    // that died), one whose task is gone. And one a live peer claimed a moment ago.
    let now = chrono::Utc::now();
    let code = |c: &str| AttemptInput::Code { code: c.into() };
    let queued = new_attempt(s.id, ids["task:sum"], code("print(a + b)"), now);
    let running = new_attempt(s.id, ids["task:sum"], code("print(0)"), now);
    let live = new_attempt(s.id, ids["task:sum"], code("print(a + b)"), now);
    db.insert_attempt(&queued).unwrap();
    db.insert_attempt(&running).unwrap();
    db.insert_attempt(&live).unwrap();
    assert!(db
        .claim_attempt(running.id, now - chrono::Duration::hours(1))
        .unwrap());
    assert!(db.claim_attempt(live.id, now).unwrap());
    let doomed = new_attempt(s.id, ids["task:sum-draft"], code("print(1)"), now);
    db.insert_attempt(&doomed).unwrap();
    domain::ports::ContentRepo::delete_task(db.as_ref(), ids["task:sum-draft"]).ok();
    // The task's deletion may have taken its attempts with it; if not, recovery fails it.
    let doomed_left = db.attempt(doomed.id).unwrap().is_some();

    // "Restart": a second server over the same database, now with a grader.
    let dir2 = tempfile::tempdir().unwrap();
    let restarted = App::spawn_on(
        db.clone(),
        dir2,
        Some(Arc::new(StandIn {
            delay: Duration::ZERO,
        })),
    )
    .await;
    // Each start signs tokens with its own development secret: read as a teacher of the new one.
    let t = restarted.register(Role::Teacher).await;
    let (_, a) = restarted
        .get(&format!("/attempts/{}?wait=10", queued.id), &t.token)
        .await;
    assert_eq!(a["verdict"], "accepted", "{a}");
    let (_, a) = restarted
        .get(&format!("/attempts/{}?wait=10", running.id), &t.token)
        .await;
    assert_eq!(a["verdict"], "wrong_answer", "{a}");
    if doomed_left {
        let d = db.attempt(doomed.id).unwrap().unwrap();
        assert_eq!(d.report.unwrap().verdict, Verdict::InternalError);
    }
    // The live peer's attempt is left to it: still running, not graded here.
    let l = db.attempt(live.id).unwrap().unwrap();
    assert_eq!(
        (l.status, l.started_at, l.report),
        (AttemptStatus::Running, Some(now.trunc_subsecs(6)), None)
    );
    let left: Vec<_> = db
        .unfinished_attempts()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(left, vec![live.id]);
}

#[actix_web::test]
async fn attempts_of_a_peer_that_died_are_swept_without_a_restart() {
    let (db, dir) = persistence::testing::fresh_sqlite();
    let db = Arc::new(db);
    let app = App::spawn_on(
        db.clone(),
        dir,
        Some(Arc::new(StandIn {
            delay: Duration::ZERO,
        })),
    )
    .await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    // A peer queued this long ago and crashed; this instance is already up (no restart).
    let old = chrono::Utc::now() - chrono::Duration::minutes(30);
    let orphan = new_attempt(
        s.id,
        ids["task:sum"],
        AttemptInput::Code {
            code: "print(a + b)".into(),
        },
        old,
    );
    db.insert_attempt(&orphan).unwrap();
    // The sweep runs every minute by default; run one now as the timer would.
    api::routes::learning::sweep_now(&app.state).await.unwrap();
    let (_, a) = app
        .get(&format!("/attempts/{}?wait=10", orphan.id), &s.token)
        .await;
    assert_eq!(a["verdict"], "accepted", "{a}");
}

#[actix_web::test]
async fn one_student_may_have_only_a_few_submissions_in_flight() {
    let (db, dir) = persistence::testing::fresh_sqlite();
    let app = App::spawn_with(
        learning_common::test_config_with(&[("SUBMIT_MAX_IN_FLIGHT", "2")]),
        Arc::new(db),
        dir,
        Some(Arc::new(StandIn {
            delay: Duration::from_secs(3),
        })),
    )
    .await;
    app.import(&small_course());
    let task = ids(&app)["task:sum"];
    let (greedy, other) = (
        app.register(Role::Student).await,
        app.register(Role::Student).await,
    );
    let submit = |token: String| {
        let app = &app;
        async move {
            let res = app
                .http
                .post(format!("{}/tasks/{task}/submissions", app.base))
                .bearer_auth(token)
                .json(&json!({"code": "print(a + b)"}))
                .send()
                .await
                .unwrap();
            let (status, headers) = (res.status().as_u16(), res.headers().clone());
            (status, res.text().await.unwrap(), headers)
        }
    };
    for _ in 0..2 {
        let (status, body, _) = submit(greedy.token.clone()).await;
        assert_eq!(status, 202, "{body}");
    }
    let (status, body, headers) = submit(greedy.token.clone()).await;
    assert_eq!(status, 429, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "rate_limited", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains('2'),
        "names the limit: {v}"
    );
    assert_eq!(
        headers.get("retry-after").map(|h| h.to_str().unwrap()),
        Some("1")
    );
    assert_eq!(
        app.db.attempts_of_task(task).unwrap().len(),
        2,
        "the refused submission stored nothing"
    );
    // Other students are not held up by the first one's cap.
    let (status, body, _) = submit(other.token.clone()).await;
    assert_eq!(status, 202, "{body}");
}

/// A rejudge puts finished code attempts back in the queue and grades them again (it was a 409:
/// a finished attempt's status could not be changed).
#[actix_web::test]
async fn a_rejudge_grades_finished_attempts_again() {
    let app = App::spawn(Some(Arc::new(StandIn {
        delay: Duration::ZERO,
    })))
    .await;
    app.import(&small_course());
    let task = ids(&app)["task:sum"];
    let s = app.register(Role::Student).await;
    let t = app.register(Role::Teacher).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/tasks/{task}/submissions"),
            Some(&s.token),
            Some(json!({"code": "print(a + b)"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["attemptId"].as_str().unwrap().to_string();
    let (_, a) = app.get(&format!("/attempts/{id}?wait=10"), &s.token).await;
    assert_eq!(a["verdict"], "accepted", "{a}");
    let first = app.db.attempt(id.parse().unwrap()).unwrap().unwrap();
    let (status, body) = app
        .call(
            "POST",
            &format!("/teacher/tasks/{task}/rejudge"),
            Some(&t.token),
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"], 1, "{body}");
    let mut again = None;
    for _ in 0..50 {
        let a = app.db.attempt(first.id).unwrap().unwrap();
        if a.status == AttemptStatus::Done && a.finished_at != first.finished_at {
            again = Some(a);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = again.expect("the rejudged attempt was graded again");
    assert_eq!(again.report.unwrap().verdict, Verdict::Accepted);
}
