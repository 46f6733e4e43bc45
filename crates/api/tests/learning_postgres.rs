//! The learning API on PostgreSQL (the other learning tests run on SQLite): reading with
//! navigation, a quiz attempt, progress and a saved session, over HTTP. Fails when PostgreSQL
//! is not reachable; never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use domain::user::Role;
use learning_common::{ids, small_course, App};
use serde_json::json;
use std::sync::Arc;

#[actix_web::test]
async fn postgres_reading_attempts_and_sessions_work_end_to_end() {
    let db = Arc::new(persistence::testing::fresh_postgres());
    let app = App::spawn_on(db, tempfile::tempdir().unwrap(), None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;

    let (status, sum) = app.get(&format!("/lessons/{}", ids["sum"]), &s.token).await;
    assert_eq!(status, 200, "{sum}");
    assert_eq!(sum["lessonLink"], "/topics/basics/lessons/sum");
    assert_eq!(sum["next"]["lessonId"], ids["for"].to_string());
    assert_eq!(sum["next"]["topicId"], ids["loops"].to_string());
    assert!(!sum.to_string().contains("REFERENCE-MARKER"));

    let quiz = ids["task:quiz-1"];
    let (status, a) = app
        .call(
            "POST",
            &format!("/tasks/{quiz}/quiz-answers"),
            Some(&s.token),
            Some(json!({"answers": [[1], [0, 2]]})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["verdict"], "accepted");
    let (_, topics) = app.get("/topics", &s.token).await;
    assert_eq!(topics[0]["tasksSolved"], 1);
    let (_, mine) = app.get("/me/attempts", &s.token).await;
    assert_eq!(mine["items"][0]["id"], a["id"]);

    let (status, created) = app
        .call(
            "POST",
            "/sessions",
            Some(&s.token),
            Some(json!({"taskId": quiz, "state": {"code": "x"}})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, got) = app
        .get(
            &format!("/sessions/{}", created["id"].as_str().unwrap()),
            &s.token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["state"], json!({"code": "x"}));
    assert_eq!(got["taskId"], quiz.to_string());
}

#[actix_web::test]
async fn control_characters_in_free_text_are_422s_naming_the_field_on_postgres() {
    let db = Arc::new(persistence::testing::fresh_postgres());
    let app = App::spawn_on(db, tempfile::tempdir().unwrap(), None).await;
    learning_common::control_characters_are_422s_naming_the_field(&app).await;
}
