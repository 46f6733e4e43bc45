//! The OpenAPI document is generated from the code and matches the served routes exactly; the
//! interactive page at `/docs` works without internet access.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use learning_common::App;
use std::collections::BTreeSet;

#[actix_web::test]
async fn every_registered_route_is_in_openapi_json_and_nothing_else_is() {
    let app = App::spawn(None).await;
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let registered: BTreeSet<(String, String)> = api::routes::registry()
        .specs()
        .into_iter()
        .map(|s| (s.method.as_str().to_lowercase(), s.path))
        .collect();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .filter(|(m, _)| {
            ["get", "post", "put", "patch", "delete", "head", "options"].contains(&m.as_str())
        })
        .collect();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json: {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
    // The learning API is all there, with its schemas.
    for (m, p) in [
        ("get", "/lessons/{id}"),
        ("post", "/tasks/{id}/submissions"),
        ("get", "/attempts/{id}"),
        ("post", "/sessions"),
        ("get", "/teacher/analytics/tasks/{id}"),
        ("post", "/teacher/tasks/{id}/rejudge"),
    ] {
        assert!(
            registered.contains(&(m.to_string(), p.to_string())),
            "{m} {p} not registered"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "LessonPayload",
        "NavLinkDto",
        "AttemptDto",
        "SessionDto",
        "ErrorBody",
        "TaskStatsDto",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    let lesson = &schemas["LessonPayload"]["properties"];
    assert!(lesson.get("lessonLink").is_some() && lesson.get("lssonLink").is_none());
    // Every operation references only schemas that exist.
    let text = doc.to_string();
    for r in text.split("\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
}

#[actix_web::test]
async fn docs_page_is_served_with_every_asset_from_this_server() {
    let app = App::spawn(None).await;
    let (status, html, ct) = app.raw("GET", "/docs/", None, None).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    // Every script and stylesheet is relative (served from the binary), none from a CDN.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(
                !url.starts_with("http://")
                    && !url.starts_with("https://")
                    && !url.starts_with("//"),
                "external asset {url}"
            );
            assets.push(url.trim_start_matches("./").to_string());
        }
    }
    assert!(
        assets.iter().any(|a| a.ends_with(".js")),
        "no script in {html}"
    );
    for a in assets {
        let path = if a.starts_with('/') {
            a.clone()
        } else {
            format!("/docs/{a}")
        };
        let (status, body, _) = app.raw("GET", &path, None, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.is_empty(), "{path} is empty");
    }
    let (status, init, _) = app
        .raw("GET", "/docs/swagger-initializer.js", None, None)
        .await;
    assert_eq!(status, 200);
    assert!(init.contains("/openapi.json"), "{init}");
}
