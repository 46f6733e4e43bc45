//! Every JSON body of every route is a typed request that refuses unknown fields by name
//! (`deny_unknown_fields`), refuses anything but an object, and malformed JSON gets the JSON
//! error shape, never plain text.
//! Walks the registry and the OpenAPI document, so a new route is covered without edits here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, TEST_API_KEY};
use serde_json::{json, Value};
use uuid::Uuid;

fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e + 1)
            .unwrap_or(rest.len());
        out.push_str(&Uuid::new_v4().to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_json_body_refuses_unknown_fields_and_malformed_json_by_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let doc: Value = app
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for spec in api::routes::registry().specs() {
        let op = &doc["paths"][&spec.path][spec.method.as_str().to_ascii_lowercase()];
        if op["requestBody"]["content"]["application/json"].is_null() {
            continue;
        }
        let what = format!("{} {}", spec.method, spec.path);
        let request = |body: reqwest::Body| {
            app.client
                .request(
                    spec.method.as_str().parse().unwrap(),
                    app.url(&concrete(&spec.path)),
                )
                .bearer_auth(&admin.access_token)
                .header("x-api-key", TEST_API_KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };

        let res = request(json!({"zzUnknownField": 1}).to_string().into())
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{what}: unknown field");
        let body: Value = res.json().await.unwrap();
        let fields: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"zzUnknownField"),
            "{what}: the unknown field is named: {body}"
        );

        // A struct written as an array (serde would take it) or any other non-object.
        for not_object in ["[\"a\", \"b\"]", "[]", "\"text\"", "1", "null"] {
            let res = request(not_object.into()).await.unwrap();
            assert_eq!(res.status(), 422, "{what}: {not_object}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(
                body["error"]["fields"][0]["field"], "body",
                "{what}: {body}"
            );
        }

        let res = request("{\"a\": ".into()).await.unwrap();
        assert_eq!(res.status(), 400, "{what}: malformed JSON");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "malformed_json", "{what}");
        checked += 1;
    }
    assert!(checked >= 5, "the walk found the JSON bodies ({checked})");
}

#[tokio::test]
async fn a_body_that_cannot_be_decoded_is_a_plain_400_naming_the_body() {
    let app = TestApp::spawn().await;
    for encoding in ["br", "gzip", "deflate"] {
        let res = app
            .post("/auth/register")
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(&b"definitely not compressed"[..])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{encoding}");
        let body: Value = res.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("the request body could not be read"),
            "{encoding}: {body}"
        );
        assert!(
            !message.contains('{') && !message.contains("kind:"),
            "no Rust debug output: {body}"
        );
        assert_eq!(
            body["error"]["fields"][0]["field"], "body",
            "{encoding}: {body}"
        );
    }
}
