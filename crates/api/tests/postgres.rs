//! The accounts suite's core on PostgreSQL: the same server and routes over a fresh schema.
//! Fails (never skips) when PostgreSQL is not running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{error_body, error_fields, unique_name, TestApp, TEST_PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn postgres_ready_and_register_login_me() {
    let app = TestApp::spawn_postgres().await;
    let ready: Value = app
        .get("/ready")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["checks"][0]["status"], "ok", "{ready}");
    let user = app.student().await;
    let res = app
        .login(&user.username.to_uppercase(), TEST_PASSWORD)
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = app
        .get("/me")
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user.id.to_string());
    error_body(app.login(&user.username, "wrong-password").await, 401).await;
}

#[tokio::test]
async fn postgres_case_variants_and_concurrent_registration_conflict() {
    let app = TestApp::spawn_postgres().await;
    let name = unique_name("Ann");
    assert_eq!(app.register(&name, TEST_PASSWORD).await.status(), 201);
    let body = error_body(app.register(&name.to_lowercase(), TEST_PASSWORD).await, 409).await;
    assert_eq!(error_fields(&body), vec!["username"]);

    let race = unique_name("race");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (client, url, race) = (app.client.clone(), app.url("/auth/register"), race.clone());
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": race, "password": TEST_PASSWORD}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap().as_u16() {
            201 => created += 1,
            409 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn postgres_refresh_reuse_revokes_the_family_and_roles_apply_at_once() {
    let app = TestApp::spawn_postgres().await;
    let user = app.student().await;
    let refresh = |t: String| {
        app.post("/auth/refresh")
            .json(&json!({"refreshToken": t}))
            .send()
    };
    let next: Value = refresh(user.refresh_token.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        refresh(user.refresh_token.clone()).await.unwrap().status(),
        401
    );
    assert_eq!(
        refresh(next["refreshToken"].as_str().unwrap().to_string())
            .await
            .unwrap()
            .status(),
        401
    );

    let admin = app.admin().await;
    let teacher = app.teacher().await;
    assert_eq!(
        app.get("/admin/users")
            .bearer_auth(&teacher.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = app
        .patch(&format!("/admin/users/{}/role", teacher.id))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get("/admin/users")
            .bearer_auth(&teacher.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
