//! Authoring and analytics over HTTP: field-named 422s, unknown fields refused, CRUD, reorder,
//! the audience of every teacher route, and analytics as JSON and CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use domain::{ports::ContentRepo, user::Role};
use learning_common::{ids, small_course, App};
use serde_json::{json, Value};

fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_bad_task_body_is_a_422_naming_each_bad_field() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let lesson = ids(&app)["sum"];
    let t = app.register(Role::Teacher).await;
    let bad = json!({
        "title": " ",
        "slug": "Not A Slug",
        "data": {
            "kind": "code",
            "statement": "",
            "limits": {"timeMs": 1, "memoryMb": 99999, "outputKb": 64},
            "tests": [
                {"name": "a", "weight": 0, "body": {"io": {"expected": "1"}}},
                {"name": "a", "body": {"assert": {"code": "assert f(1) == 1"}}}
            ]
        }
    });
    let (status, body) = app
        .call(
            "POST",
            &format!("/teacher/lessons/{lesson}/tasks"),
            Some(&t.token),
            Some(bad),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let f = fields(&body);
    for want in [
        "data.statement",
        "data.limits.timeMs",
        "data.limits.memoryMb",
        "data.tests[0].weight",
        "data.tests[1].name",
        "data.entryPoint",
    ] {
        assert!(f.contains(&want.to_string()), "{want} not named in {f:?}");
    }
    // Request-level fields are named too (validator runs before the data is looked at).
    let (status, body) = app
        .call(
            "POST",
            &format!("/teacher/lessons/{lesson}/tasks"),
            Some(&t.token),
            Some(json!({"title": "", "data": {"kind": "reading", "body": "x"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(fields(&body), ["title"]);
    // A wrong type deep inside the data names its path.
    let (status, body) = app
        .call(
            "POST",
            &format!("/teacher/lessons/{lesson}/tasks"),
            Some(&t.token),
            Some(
                json!({"title": "T", "data": {"kind": "code", "statement": "s",
                "tests": [{"name": "a", "weight": "heavy", "body": {"io": {"expected": "1"}}}]}}),
            ),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(fields(&body), ["data.tests[0].weight"]);
    assert!(
        app.db.tasks(lesson, true).unwrap().len() == 2,
        "nothing was written"
    );
}

#[actix_web::test]
async fn unknown_fields_are_refused_with_a_422_that_names_them() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let t = app.register(Role::Teacher).await;
    let cases = [
        (
            "/teacher/topics".to_string(),
            json!({"title": "T", "isAdmin": true}),
            "isAdmin",
        ),
        (
            format!("/teacher/lessons/{}/tasks", ids["sum"]),
            json!({"title": "T", "data": {"kind": "reading", "body": "b", "bodyy": 1}}),
            "data.bodyy",
        ),
        (
            format!("/teacher/lessons/{}/tasks", ids["sum"]),
            json!({"title": "T", "data": {"kind": "code", "statement": "s",
            "limits": {"timeMS": 5, "memoryMb": 64, "outputKb": 1}, "tests": []}}),
            "data.limits.timeMS",
        ),
        (
            format!("/tasks/{}/submissions", ids["task:sum"]),
            json!({"code": "print(1)", "language": "py"}),
            "language",
        ),
    ];
    for (path, body, field) in cases {
        let (status, res) = app.call("POST", &path, Some(&t.token), Some(body)).await;
        assert_eq!(status, 422, "{path}: {res}");
        assert_eq!(fields(&res), [field], "{path}: {res}");
    }
}

#[actix_web::test]
async fn teachers_create_update_reorder_publish_and_delete_content() {
    let app = App::spawn(None).await;
    let t = app.register(Role::Teacher).await;
    let s = app.register(Role::Student).await;
    let tok = Some(t.token.as_str());
    let (status, topic) = app
        .call(
            "POST",
            "/teacher/topics",
            tok,
            Some(json!({"title": "Graphs & Trees"})),
        )
        .await;
    assert_eq!(status, 201, "{topic}");
    assert_eq!(topic["slug"], "graphs-trees");
    assert_eq!(topic["published"], false);
    let tid = topic["id"].as_str().unwrap().to_string();
    let (status, dup) = app
        .call(
            "POST",
            "/teacher/topics",
            tok,
            Some(json!({"title": "Again", "slug": "graphs-trees"})),
        )
        .await;
    assert_eq!(status, 409, "{dup}");

    let mut lessons = Vec::new();
    for title in ["One", "Two", "Three"] {
        let (status, l) = app
            .call(
                "POST",
                &format!("/teacher/topics/{tid}/lessons"),
                tok,
                Some(json!({"title": title, "published": true})),
            )
            .await;
        assert_eq!(status, 201, "{l}");
        lessons.push(l["id"].as_str().unwrap().to_string());
    }
    let reversed: Vec<&String> = lessons.iter().rev().collect();
    let (status, _) = app
        .call(
            "PUT",
            &format!("/teacher/topics/{tid}/lessons/order"),
            tok,
            Some(json!({"ids": reversed})),
        )
        .await;
    assert_eq!(status, 204);
    let (_, listed) = app
        .get(&format!("/teacher/topics/{tid}/lessons"), &t.token)
        .await;
    let order: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["Three", "Two", "One"]);
    let (status, body) = app
        .call(
            "PUT",
            &format!("/teacher/topics/{tid}/lessons/order"),
            tok,
            Some(json!({"ids": [lessons[0]]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["ids"]);

    // Unpublished topic: invisible to students until published.
    let (status, _) = app.get(&format!("/topics/{tid}"), &s.token).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/teacher/topics/{tid}"),
            tok,
            Some(json!({"published": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, seen) = app.get(&format!("/topics/{tid}"), &s.token).await;
    assert_eq!(status, 200, "the cache is dropped on writes");
    assert_eq!(seen["lessons"][0]["lessonName"], "Three");

    // A quiz task (no sandbox needed), published at once.
    let (status, task) = app
        .call(
            "POST",
            &format!("/teacher/lessons/{}/tasks", lessons[0]),
            tok,
            Some(
                json!({"title": "Q", "published": true, "data": {"kind": "quiz",
                "questions": [{"prompt": "1+1?", "options": ["1", "2"], "correct": [1]}]}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{task}");
    let task_id = task["id"].as_str().unwrap().to_string();
    let (status, page) = app.get(&format!("/tasks/{task_id}"), &s.token).await;
    assert_eq!(status, 200);
    assert_eq!(page["task"]["data"]["questions"][0]["correct"], json!([]));
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/teacher/tasks/{task_id}"),
            tok,
            Some(json!({"title": "Quiz"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call("DELETE", &format!("/teacher/tasks/{task_id}"), tok, None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get(&format!("/tasks/{task_id}"), &s.token).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call("DELETE", &format!("/teacher/topics/{tid}"), tok, None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get(&format!("/topics/{tid}"), &s.token).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn publishing_a_code_task_with_a_reference_needs_the_sandbox() {
    // No grader here: the reference cannot be checked, so publishing answers 503 and the task
    // stays a draft. (The e2e test publishes with the real sandbox.)
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let t = app.register(Role::Teacher).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/teacher/tasks/{}/publish", ids["task:sum-draft"]),
            Some(&t.token),
            None,
        )
        .await;
    assert_eq!(status, 503, "{body}");
    let draft = app.db.task(ids["task:sum-draft"]).unwrap().unwrap();
    assert!(!draft.published);
}

#[actix_web::test]
async fn students_and_anonymous_callers_cannot_author_or_read_analytics() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    let paths = [
        (
            "POST",
            "/teacher/topics".to_string(),
            Some(json!({"title": "X"})),
        ),
        ("GET", format!("/teacher/tasks/{}", ids["task:sum"]), None),
        ("DELETE", format!("/teacher/topics/{}", ids["basics"]), None),
        (
            "GET",
            format!("/teacher/analytics/tasks/{}", ids["task:sum"]),
            None,
        ),
        ("GET", format!("/teacher/analytics/students/{}", s.id), None),
        (
            "POST",
            format!("/teacher/tasks/{}/rejudge", ids["task:sum"]),
            None,
        ),
    ];
    for (m, p, b) in &paths {
        let (status, _) = app.call(m, p, Some(&s.token), b.clone()).await;
        assert_eq!(status, 403, "student {m} {p}");
        let (status, _) = app.call(m, p, None, b.clone()).await;
        assert_eq!(status, 401, "anonymous {m} {p}");
    }
    assert_eq!(
        app.db.outline(true).unwrap().len(),
        3,
        "nothing was deleted"
    );
}

#[actix_web::test]
async fn analytics_come_as_json_and_csv() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let quiz = ids["task:quiz-1"];
    let s1 = app.register(Role::Student).await;
    let s2 = app.register(Role::Student).await;
    let answer = |tok: String, a: Value| {
        let app = &app;
        async move {
            app.call(
                "POST",
                &format!("/tasks/{quiz}/quiz-answers"),
                Some(&tok),
                Some(json!({"answers": a})),
            )
            .await
        }
    };
    assert_eq!(answer(s1.token.clone(), json!([[0], [0]])).await.0, 200);
    assert_eq!(answer(s1.token.clone(), json!([[1], [0, 2]])).await.0, 200);
    assert_eq!(answer(s2.token.clone(), json!([[0], [0, 2]])).await.0, 200);
    let t = app.register(Role::Teacher).await;
    let (status, stats) = app
        .get(&format!("/teacher/analytics/tasks/{quiz}"), &t.token)
        .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["attempts"], 3);
    assert_eq!(stats["studentsTried"], 2);
    assert_eq!(stats["studentsPassed"], 1);
    assert_eq!(stats["passRate"], 0.5);
    assert_eq!(stats["medianAttemptsToPass"], 2.0);
    assert_eq!(
        stats["mostFailedTests"][0],
        json!({"name": "question 1", "failures": 2})
    );

    let (status, csv, ct) = app
        .raw(
            "GET",
            &format!("/teacher/analytics/tasks/{quiz}?format=csv"),
            Some(&t.token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(csv.starts_with("metric,value\n"), "{csv}");
    assert!(csv.contains("passRate,0.5000"), "{csv}");
    assert!(csv.contains("failedTest:question 1,2"), "{csv}");

    let (status, p) = app
        .get(&format!("/teacher/analytics/students/{}", s1.id), &t.token)
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["tasksSolved"], 1);
    assert_eq!(p["tasksTotal"], 2);
    assert_eq!(p["topics"][0]["tasksAttempted"], 1);
    let (status, csv, ct) = app
        .raw(
            "GET",
            &format!("/teacher/analytics/students/{}?format=csv", s1.id),
            Some(&t.token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "topicId,topicTitle,tasksTotal,tasksAttempted,tasksSolved"
    );
    assert!(lines[1].ends_with(",Basics,2,1,1"), "{csv}");
    let (status, body) = app
        .get(
            &format!("/teacher/analytics/tasks/{quiz}?format=xml"),
            &t.token,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["format"]);
}

#[actix_web::test]
async fn control_characters_in_free_text_are_422s_naming_the_field_on_sqlite() {
    let app = App::spawn(None).await;
    learning_common::control_characters_are_422s_naming_the_field(&app).await;
}

/// F3: deleting a task, lesson or topic that students have attempts under is a 409 naming how
/// many attempts would be lost, and deletes nothing; `?force=true` deletes.
#[actix_web::test]
async fn deleting_content_with_students_attempts_needs_force() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let t = app.register(Role::Teacher).await;
    let s = app.register(Role::Student).await;
    let tok = Some(t.token.as_str());
    let quiz = ids["task:quiz-1"];
    for _ in 0..2 {
        let (status, a) = app
            .call(
                "POST",
                &format!("/tasks/{quiz}/quiz-answers"),
                Some(&s.token),
                Some(json!({"answers": [[1], [0, 2]]})),
            )
            .await;
        assert_eq!(status, 200, "{a}");
    }
    let lesson = app.db.task(quiz).unwrap().unwrap().lesson_id;
    let topic = app.db.lesson(lesson).unwrap().unwrap().topic_id;
    for path in [
        format!("/teacher/tasks/{quiz}"),
        format!("/teacher/lessons/{lesson}"),
        format!("/teacher/topics/{topic}"),
        format!("/teacher/tasks/{quiz}?force=false"),
    ] {
        let (status, body) = app.call("DELETE", &path, tok, None).await;
        assert_eq!(status, 409, "{path}: {body}");
        assert_eq!(body["error"]["code"], "conflict");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("2 student attempts") && msg.contains("force=true"),
            "{msg}"
        );
    }
    assert!(app.db.task(quiz).unwrap().is_some(), "nothing was deleted");
    let (_, mine) = app.get("/me/solutions", &s.token).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");

    let (status, body) = app
        .call(
            "DELETE",
            &format!("/teacher/tasks/{quiz}?force=true"),
            tok,
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(app.db.task(quiz).unwrap(), None);
    // With the attempts gone, the lesson deletes without force.
    let (status, body) = app
        .call("DELETE", &format!("/teacher/lessons/{lesson}"), tok, None)
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/teacher/tasks/{quiz}?force=maybe"),
            tok,
            None,
        )
        .await;
    assert!(status == 400 || status == 422, "{status}");
}

/// F4: a duplicate slug is a 409 whose `fields` names `slug`.
#[actix_web::test]
async fn a_duplicate_slug_conflict_names_the_slug_field() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let t = app.register(Role::Teacher).await;
    let tok = Some(t.token.as_str());
    let (status, body) = app
        .call(
            "POST",
            "/teacher/topics",
            tok,
            Some(json!({"title": "x", "slug": "basics"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(fields(&body), ["slug"], "{body}");
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/teacher/tasks/{}", ids["task:sum"]),
            tok,
            Some(json!({"slug": "sum-draft"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(fields(&body), ["slug"], "{body}");
}
