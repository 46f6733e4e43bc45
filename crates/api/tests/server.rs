//! The server as an operator and a client first meet it: health, readiness, docs, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{error_body, error_fields, TestApp};
use serde_json::{json, Value};

#[tokio::test]
async fn health_answers_ok_with_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/health").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let id = res
        .headers()
        .get("x-request-id")
        .expect("x-request-id header")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn ready_reports_the_database_and_pending_migrations() {
    let app = TestApp::spawn().await;
    let res = app.get("/ready").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"][0]["name"], "database");
    assert_eq!(body["checks"][0]["status"], "ok");

    // Revert the newest migration: the server is now behind its schema and must say so.
    let url = app.sqlite_url.clone().unwrap();
    let reverted = tokio::task::spawn_blocking(move || {
        let url = persistence::DatabaseUrl::parse(&url).unwrap();
        persistence::Database::connect(&url, 1)
            .unwrap()
            .migrate_down(1)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(reverted.len(), 1);
    let res = app.get("/ready").send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "failed");
    assert!(
        body["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("campus migrate"),
        "{body}"
    );
}

#[tokio::test]
async fn openapi_lists_every_registered_route_and_docs_render() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for spec in api::routes::registry().specs() {
        let op = &doc["paths"][&spec.path][spec.method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from /openapi.json",
            spec.method,
            spec.path
        );
    }
    let res = app.get("/docs/").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "the docs page is Swagger UI");
    // Vendored: the page's script is served by Campus itself, not a CDN.
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "docs must work offline"
    );
}

#[tokio::test]
async fn every_schema_reference_in_the_document_resolves() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {r}"
        );
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let app = TestApp::spawn().await;
    let body = error_body(app.get("/no/such/route").send().await.unwrap(), 404).await;
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn malformed_bodies_get_json_errors_naming_the_field() {
    let app = TestApp::spawn().await;
    let send = |body: &'static str| {
        app.post("/auth/register")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let body = error_body(send("{\"username\": ").await.unwrap(), 400).await;
    assert_eq!(body["error"]["code"], "malformed_json");

    let body = error_body(
        send(r#"{"username": "ann", "password": 12345678}"#)
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(error_fields(&body), vec!["password"]);

    let body = error_body(
        send(r#"{"username": "ann", "password": "longenough", "role": "admin"}"#)
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(
        error_fields(&body),
        vec!["role"],
        "unknown fields are refused by name"
    );

    let body = error_body(send(r#"{"password": "longenough"}"#).await.unwrap(), 422).await;
    assert_eq!(error_fields(&body), vec!["username"]);

    let res = app
        .post("/auth/register")
        .body("username=ann")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    error_body(res, 415).await;
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_json_shape() {
    let app = TestApp::spawn_with(&[("MAX_BODY_BYTES", "2048")]).await;
    let big = "x".repeat(4096);
    let res = app
        .post("/auth/register")
        .json(&json!({"username": "ann", "password": big}))
        .send()
        .await
        .unwrap();
    let body = error_body(res, 413).await;
    assert_eq!(body["error"]["code"], "too_large");
}

#[tokio::test]
async fn bad_path_ids_and_query_values_name_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = app
        .patch("/admin/users/not-a-uuid/role")
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "teacher"}))
        .send()
        .await
        .unwrap();
    let body = error_body(res, 422).await;
    assert_eq!(error_fields(&body), vec!["id"]);

    let res = app
        .get("/admin/users?limit=lots")
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    let body = error_body(res, 422).await;
    assert_eq!(error_fields(&body), vec!["limit"]);

    let res = app
        .get("/admin/users?limit=1000")
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    let body = error_body(res, 422).await;
    assert_eq!(error_fields(&body), vec!["limit"]);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = TestApp::spawn_with(&[("CORS_ORIGINS", "https://app.example.org")]).await;
    let from = |origin: &'static str| app.get("/health").header("origin", origin).send();

    let res = from("https://app.example.org").await.unwrap();
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "https://app.example.org"
    );

    let res = from("https://evil.example.com").await.unwrap();
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "a foreign origin gets no allow-origin"
    );

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/auth/login"))
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    // The refusal comes from actix-cors, yet has the JSON error shape like every other error.
    let body = error_body(preflight, 400).await;
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Origin"),
        "{body}"
    );

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/auth/login"))
        .header("origin", "https://app.example.org")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://app.example.org"
    );
}

#[tokio::test]
async fn without_cors_origins_no_origin_is_allowed() {
    let app = TestApp::spawn().await;
    for origin in ["http://localhost:3000", "https://app.example.org"] {
        let res = app
            .get("/health")
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn a_known_path_with_another_method_gets_a_json_405() {
    let app = TestApp::spawn().await;
    let res = app.client.delete(app.url("/health")).send().await.unwrap();
    assert_eq!(res.headers().get("allow").unwrap(), "GET, HEAD");
    let body = error_body(res, 405).await;
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn every_get_route_answers_head_with_the_same_status_and_no_body() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    for (path, token, status) in [
        ("/health", None, 200),
        ("/topics", None, 401),
        ("/topics", Some(&user.access_token), 200),
        ("/me", Some(&user.access_token), 200),
    ] {
        let mut req = app.client.head(app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), status, "HEAD {path}");
        assert!(
            res.bytes().await.unwrap().is_empty(),
            "HEAD {path} has no body"
        );
    }
    // A path with no GET route still refuses HEAD.
    let res = app
        .client
        .head(app.url("/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn error_responses_from_actix_itself_have_the_json_error_shape() {
    let app = TestApp::spawn().await;
    // A path segment that is not a UUID: actix's path extractor, not a handler.
    let user = app.student().await;
    let res = app
        .get("/lessons/not-a-uuid")
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert!((400..500).contains(&status), "{status}");
    let body = error_body(res, status).await;
    assert!(body["error"]["code"].is_string(), "{body}");
}
