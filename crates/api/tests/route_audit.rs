//! The route audit: every route in the registry (the only way a route reaches actix) is called
//! by an anonymous client, a student, a teacher and an admin, and must answer as its declared
//! audience says. A route cannot be registered without an audience; a new public or front-end
//! route must also be added to the allow-lists below, a deliberate act.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::registry::{Audience, RouteSpec};
use common::{TestApp, TestUser, TEST_API_KEY};
use uuid::Uuid;

/// Routes anyone may call. Adding one here is a security decision.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
];

/// Routes for the trusted front end (by `X-Api-Key`).
const FRONT_END: &[(&str, &str)] = &[("POST", "/auth/exchange")];

/// Path parameters become random UUIDs (a well-formed id that exists nowhere).
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

/// (status, body) of calling `spec` as `who` (`None`: anonymous).
async fn call(app: &TestApp, spec: &RouteSpec, who: Option<&TestUser>) -> (u16, String) {
    let mut req = app.client.request(
        spec.method.as_str().parse().unwrap(),
        app.url(&concrete(&spec.path)),
    );
    if let Some(user) = who {
        req = req.bearer_auth(&user.access_token);
    }
    if spec.method != "GET" && spec.method != "DELETE" {
        req = req.json(&serde_json::json!({}));
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The guard's own refusals, as opposed to a handler's "not found" or "invalid".
fn refused(status: u16, body: &str) -> bool {
    status == 401 || (status == 403 && body.contains("\"code\":\"forbidden\""))
}

fn key(spec: &RouteSpec) -> (String, String) {
    (spec.method.to_string(), spec.path.clone())
}

#[tokio::test]
async fn every_route_answers_as_its_audience_says() {
    let app = TestApp::spawn().await;
    let student = app.student().await;
    let teacher = app.teacher().await;
    let admin = app.admin().await;
    let specs = api::routes::registry().specs();
    assert!(
        specs.len() >= PUBLIC.len() + FRONT_END.len() + 3,
        "the registry lists the routes"
    );

    for spec in &specs {
        let what = format!("{} {} ({:?})", spec.method, spec.path, spec.audience);
        let anon = call(&app, spec, None).await;
        let as_student = call(&app, spec, Some(&student)).await;
        let as_teacher = call(&app, spec, Some(&teacher)).await;
        let as_admin = call(&app, spec, Some(&admin)).await;
        match spec.audience {
            Audience::Public => {
                for (who, (s, b)) in [("anonymous", &anon), ("student", &as_student)] {
                    assert!(!refused(*s, b), "{what}: {who} refused with {s}");
                }
            }
            Audience::ApiKey => {
                // A user token is not the front end's key.
                for (who, (s, _)) in [
                    ("anonymous", &anon),
                    ("student", &as_student),
                    ("admin", &as_admin),
                ] {
                    assert_eq!(*s, 401, "{what}: {who} without the key");
                }
                let res = app
                    .client
                    .request(
                        spec.method.as_str().parse().unwrap(),
                        app.url(&concrete(&spec.path)),
                    )
                    .header("x-api-key", TEST_API_KEY)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                let s = res.status().as_u16();
                assert!(
                    !refused(s, &res.text().await.unwrap()),
                    "{what}: the front end refused with {s}"
                );
            }
            Audience::Student => {
                assert_eq!(anon.0, 401, "{what}: anonymous");
                for (who, (s, b)) in [
                    ("student", &as_student),
                    ("teacher", &as_teacher),
                    ("admin", &as_admin),
                ] {
                    assert!(!refused(*s, b), "{what}: {who} refused with {s}: {b}");
                }
            }
            Audience::Teacher => {
                assert_eq!(anon.0, 401, "{what}: anonymous");
                assert_eq!(as_student.0, 403, "{what}: student");
                for (who, (s, b)) in [("teacher", &as_teacher), ("admin", &as_admin)] {
                    assert!(!refused(*s, b), "{what}: {who} refused with {s}: {b}");
                }
            }
            Audience::Admin => {
                assert_eq!(anon.0, 401, "{what}: anonymous");
                assert_eq!(as_student.0, 403, "{what}: student");
                assert_eq!(as_teacher.0, 403, "{what}: teacher");
                assert!(
                    !refused(as_admin.0, &as_admin.1),
                    "{what}: admin refused with {}",
                    as_admin.0
                );
            }
        }
    }
}

#[tokio::test]
async fn public_and_front_end_routes_are_exactly_the_allow_listed_ones() {
    let specs = api::routes::registry().specs();
    let listed = |list: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = list
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        v.sort();
        v
    };
    let with = |aud: Audience| {
        let mut v: Vec<(String, String)> = specs
            .iter()
            .filter(|s| s.audience == aud)
            .map(key)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        with(Audience::Public),
        listed(PUBLIC),
        "public routes changed: review and update PUBLIC"
    );
    assert_eq!(
        with(Audience::ApiKey),
        listed(FRONT_END),
        "front-end routes changed: review and update FRONT_END"
    );
}

#[tokio::test]
async fn no_route_is_registered_twice() {
    let specs = api::routes::registry().specs();
    let mut keys: Vec<_> = specs.iter().map(key).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "a (method, path) pair is registered twice");
}

#[tokio::test]
async fn an_anonymous_client_gets_a_json_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let res = app.get("/admin/users").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

/// Everything that can put a route into actix, by the spelling actix gives it.
const ROUTE_MAKERS: &[&str] = &[
    "web::resource(",
    "web::scope(",
    "web::route(",
    "web::get(",
    "web::post(",
    "web::put(",
    "web::patch(",
    "web::delete(",
    ".route(",
    ".service(",
    "#[get(",
    "#[post(",
    "#[put(",
    "#[patch(",
    "#[delete(",
    "#[route(",
    "#[actix_web::",
];

/// Source tripwire: only the registry (and the Swagger UI service in `server.rs`) may add
/// routes to actix, so no route can skip the audience decision and this audit.
#[test]
fn only_the_registry_adds_routes_to_actix() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src];
    let mut offenders = Vec::new();
    let mut scanned = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        scanned += 1;
        let name = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for maker in ROUTE_MAKERS.iter().filter(|m| code.contains(**m)) {
                let allowed = match name.as_str() {
                    "src/registry.rs" => true,
                    "src/server.rs" => *maker == ".service(" && code.contains("SwaggerUi"),
                    _ => *maker == "#[actix_web::" && code.contains("#[actix_web::test]"),
                };
                if !allowed {
                    offenders.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(scanned > 10, "the scan saw the sources");
    assert!(
        offenders.is_empty(),
        "routes added outside the registry:\n{}",
        offenders.join("\n")
    );
}
