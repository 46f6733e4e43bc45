//! Saved editor sessions over HTTP: read back by the id they were stored under (the old backend
//! read a fresh random id: always 404), owner only, size-capped with a JSON 413.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use domain::{session::MAX_SESSION_BYTES, user::Role};
use learning_common::App;
use serde_json::json;

#[actix_web::test]
async fn a_saved_session_round_trips_for_its_owner_only() {
    let app = App::spawn(None).await;
    let me = app.register(Role::Student).await;
    let state =
        json!({"code": "print('hi')", "cursor": {"line": 1, "col": 4}, "tabs": ["main.py"]});
    let (status, created) = app
        .call(
            "POST",
            "/sessions",
            Some(&me.token),
            Some(json!({"state": state})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, got) = app.get(&format!("/sessions/{id}"), &me.token).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["state"], state);
    assert_eq!(got["id"], id.as_str());
    // The answer to the POST and every later read agree to the last digit (the clock is cut to
    // the databases' microseconds before anything is stored).
    for field in ["createdAt", "updatedAt"] {
        assert!(created[field].is_string(), "{created}");
        assert_eq!(got[field], created[field], "{field}");
    }

    let other = app.register(Role::Student).await;
    let teacher = app.register(Role::Teacher).await;
    for who in [&other, &teacher] {
        let (status, body) = app.get(&format!("/sessions/{id}"), &who.token).await;
        assert_eq!(status, 404, "{body}");
        let (status, _) = app
            .call(
                "PUT",
                &format!("/sessions/{id}"),
                Some(&who.token),
                Some(json!({"state": {}})),
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = app
            .call("DELETE", &format!("/sessions/{id}"), Some(&who.token), None)
            .await;
        assert_eq!(status, 404);
    }

    let (status, updated) = app
        .call(
            "PUT",
            &format!("/sessions/{id}"),
            Some(&me.token),
            Some(json!({"state": {"code": "x = 2"}})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let (_, got) = app.get(&format!("/sessions/{id}"), &me.token).await;
    assert_eq!(got["state"], json!({"code": "x = 2"}));
    assert_eq!(got["updatedAt"], updated["updatedAt"]);
    assert_eq!(got["createdAt"], created["createdAt"]);
    let (status, _) = app
        .call("DELETE", &format!("/sessions/{id}"), Some(&me.token), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get(&format!("/sessions/{id}"), &me.token).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn an_oversized_session_is_a_json_413_and_nothing_is_stored() {
    let app = App::spawn(None).await;
    let me = app.register(Role::Student).await;
    let big = json!({"state": {"code": "x".repeat(MAX_SESSION_BYTES + 10)}});
    let (status, body) = app
        .call("POST", "/sessions", Some(&me.token), Some(big.clone()))
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    // Also when updating.
    let (_, created) = app
        .call(
            "POST",
            "/sessions",
            Some(&me.token),
            Some(json!({"state": {}})),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            "PUT",
            &format!("/sessions/{id}"),
            Some(&me.token),
            Some(big),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    let (_, got) = app.get(&format!("/sessions/{id}"), &me.token).await;
    assert_eq!(got["state"], json!({}));
}

#[actix_web::test]
async fn session_bodies_are_checked_field_by_field() {
    let app = App::spawn(None).await;
    let me = app.register(Role::Student).await;
    for (body, field) in [
        (json!({"state": {}, "stat": 1}), "stat"),
        (json!({"state": [1, 2]}), "state"),
        (json!({"taskId": "not-a-uuid", "state": {}}), "taskId"),
        (json!({}), "state"),
    ] {
        let (status, res) = app
            .call("POST", "/sessions", Some(&me.token), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body} -> {res}");
        assert_eq!(res["error"]["fields"][0]["field"], field, "{body} -> {res}");
    }
    let (status, _) = app
        .call("POST", "/sessions", None, Some(json!({"state": {}})))
        .await;
    assert_eq!(status, 401);
}

/// F4: a session's `taskId` must name a task the caller can open: a missing task and a draft
/// (for a student) are the same 422 naming `taskId`, so draft ids cannot be probed; nothing is
/// stored. A teacher may save a session on a draft.
#[actix_web::test]
async fn a_session_task_id_must_name_a_task_the_caller_can_open() {
    let app = App::spawn(None).await;
    app.import(&learning_common::small_course());
    let ids = learning_common::ids(&app);
    let me = app.register(Role::Student).await;
    for bad in [
        uuid::Uuid::nil().to_string(),
        ids["task:sum-draft"].to_string(),
    ] {
        let (status, body) = app
            .call(
                "POST",
                "/sessions",
                Some(&me.token),
                Some(json!({"taskId": bad, "state": {}})),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["error"]["fields"][0]["field"], "taskId", "{body}");
    }
    let (status, body) = app
        .call(
            "POST",
            "/sessions",
            Some(&me.token),
            Some(json!({"taskId": ids["task:sum"], "state": {}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let teacher = app.register(Role::Teacher).await;
    let (status, body) = app
        .call(
            "POST",
            "/sessions",
            Some(&teacher.token),
            Some(json!({"taskId": ids["task:sum-draft"], "state": {}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}
