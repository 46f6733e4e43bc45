//! Accounts and tokens over HTTP: register, login, refresh, logout, exchange, roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::Utc;
use common::{
    error_body, error_fields, unique_name, TestApp, TEST_API_KEY, TEST_JWT_SECRET, TEST_PASSWORD,
};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

fn claims(sub: Uuid, iat_offset: i64, ttl: i64) -> Value {
    let iat = Utc::now().timestamp() + iat_offset;
    json!({"sub": sub, "role": "admin", "iss": "campus", "iat": iat, "nbf": iat, "exp": iat + ttl})
}

fn forge(alg: Algorithm, claims: &Value, key: &[u8]) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

/// A token whose header says `alg` and whose signature is whatever bytes are given.
fn raw_token(header: Value, claims: &Value, signature: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn register_returns_tokens_and_me_returns_the_account_dto() {
    let app = TestApp::spawn().await;
    let name = unique_name("Ada");
    let res = app.register(&name, TEST_PASSWORD).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 900);
    let token = body["accessToken"].as_str().unwrap();

    let me: Value = app
        .get("/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], name.as_str());
    assert_eq!(me["role"], "student");
    assert_eq!(me["hasPassword"], true);
    // Timestamps are UTC and say so (RFC 3339 with `Z`), never naive.
    let created = me["createdAt"].as_str().unwrap();
    assert!(created.ends_with('Z'), "{created}");
    chrono::DateTime::parse_from_rfc3339(created).unwrap();
    let keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    for key in &keys {
        assert!(!key.contains('_'), "camelCase only: {key}");
        assert!(
            !key.to_lowercase().contains("hash"),
            "no hashes on the wire: {key}"
        );
    }
}

#[tokio::test]
async fn invalid_usernames_and_short_passwords_name_their_fields() {
    let app = TestApp::spawn().await;
    let body = error_body(app.register("a b", "short").await, 422).await;
    assert_eq!(error_fields(&body), vec!["username", "password"]);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let wrong = error_body(app.login(&user.username, "not-the-password").await, 401).await;
    let unknown = error_body(app.login(&unique_name("ghost"), TEST_PASSWORD).await, 401).await;
    let malformed = error_body(app.login("??", TEST_PASSWORD).await, 401).await;
    assert_eq!(wrong, unknown, "no hint whether the account exists");
    assert_eq!(wrong, malformed);
    assert_eq!(
        app.login(&user.username.to_uppercase(), TEST_PASSWORD)
            .await
            .status(),
        200,
        "usernames ignore case"
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let expired = forge(
        Algorithm::HS256,
        &claims(user.id, -3600, 900),
        TEST_JWT_SECRET.as_bytes(),
    );
    assert_eq!(me_status(&app, &expired).await, 401);
    let body = error_body(
        app.get("/me").bearer_auth(&expired).send().await.unwrap(),
        401,
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let fresh = forge(
        Algorithm::HS256,
        &claims(user.id, 0, 900),
        TEST_JWT_SECRET.as_bytes(),
    );
    assert_eq!(
        me_status(&app, &fresh).await,
        200,
        "the same token, unexpired, works"
    );
}

#[tokio::test]
async fn tokens_signed_with_another_key_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let token = forge(
        Algorithm::HS256,
        &claims(user.id, 0, 900),
        b"another-key-another-key-another-key!",
    );
    assert_eq!(me_status(&app, &token).await, 401);
}

#[tokio::test]
async fn alg_none_and_other_algorithms_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let c = claims(user.id, 0, 900);
    let none = raw_token(json!({"alg": "none", "typ": "JWT"}), &c, b"");
    assert_eq!(me_status(&app, &none).await, 401, "alg none");
    let none_trailing = format!("{}.", none.trim_end_matches('.'));
    assert_eq!(
        me_status(&app, &none_trailing).await,
        401,
        "alg none without signature"
    );
    let hs512 = forge(Algorithm::HS512, &c, TEST_JWT_SECRET.as_bytes());
    assert_eq!(
        me_status(&app, &hs512).await,
        401,
        "HS512 with the right secret"
    );
    let rs256 = raw_token(json!({"alg": "RS256", "typ": "JWT"}), &c, &[7u8; 256]);
    assert_eq!(me_status(&app, &rs256).await, 401, "RS256");
    assert_eq!(me_status(&app, "not.a.jwt").await, 401);
    let res = app
        .get("/me")
        .header("authorization", format!("Token {}", user.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "only the Bearer scheme");
    assert_eq!(me_status(&app, &user.access_token).await, 200);
}

#[tokio::test]
async fn tokens_of_a_deleted_or_unknown_account_are_refused() {
    let app = TestApp::spawn().await;
    let token = forge(
        Algorithm::HS256,
        &claims(Uuid::new_v4(), 0, 900),
        TEST_JWT_SECRET.as_bytes(),
    );
    assert_eq!(me_status(&app, &token).await, 401);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/auth/refresh")
        .json(&json!({"refreshToken": token}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let r1 = user.refresh_token.clone();

    let res = refresh(&app, &r1).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let r2 = body["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert_eq!(
        me_status(&app, body["accessToken"].as_str().unwrap()).await,
        200
    );

    // r1 again: a replay. It fails, and so does r2 (same family) from now on.
    error_body(refresh(&app, &r1).await, 401).await;
    error_body(refresh(&app, &r2).await, 401).await;

    // Another sign-in is a new family, untouched by the revocation.
    let again: Value = app
        .login(&user.username, TEST_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        refresh(&app, again["refreshToken"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let plain = user.refresh_token.clone();
    let (by_plain, by_hash) = app
        .db(move |db| {
            (
                db.refresh_token(&plain).unwrap(),
                db.refresh_token(&domain::link::sha256_hex(&plain)).unwrap(),
            )
        })
        .await;
    assert!(
        by_plain.is_none(),
        "the token itself is not a key in the store"
    );
    assert_eq!(by_hash.unwrap().user_id, user.id);
}

#[tokio::test]
async fn unknown_and_malformed_refresh_tokens_get_401() {
    let app = TestApp::spawn().await;
    error_body(refresh(&app, "deadbeef").await, 401).await;
    let body = error_body(
        app.post("/auth/refresh")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(error_fields(&body), vec!["refreshToken"]);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let res = app
        .post("/auth/logout")
        .json(&json!({"refreshToken": user.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    error_body(refresh(&app, &user.refresh_token).await, 401).await;
    // Logging out twice is harmless.
    let res = app
        .post("/auth/logout")
        .json(&json!({"refreshToken": user.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

async fn exchange(app: &TestApp, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = app.post("/auth/exchange").json(&body);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn exchange_needs_the_shared_key() {
    let app = TestApp::spawn().await;
    let body = json!({"provider": "github", "subject": "12345"});
    error_body(exchange(&app, None, body.clone()).await, 401).await;
    error_body(exchange(&app, Some("wrong-key"), body.clone()).await, 401).await;
    let almost = &TEST_API_KEY[..TEST_API_KEY.len() - 1];
    error_body(exchange(&app, Some(almost), body.clone()).await, 401).await;
    let student = app.student().await;
    let res = app
        .post("/auth/exchange")
        .bearer_auth(&student.access_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    error_body(res, 401).await;
    let total = app.db(|db| db.count_users().unwrap()).await;
    assert_eq!(total, 1, "no account was created by refused exchanges");
}

#[tokio::test]
async fn exchange_creates_a_student_once_and_stores_only_a_hash() {
    let app = TestApp::spawn().await;
    let subject = format!("sub-{}", Uuid::new_v4());
    let body = json!({"provider": "github", "subject": subject, "username": "octo"});
    let first = exchange(&app, Some(TEST_API_KEY), body.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["user"]["role"], "student");
    assert_eq!(first["user"]["username"], "octo");
    assert_eq!(first["user"]["hasPassword"], false);

    let second = exchange(&app, Some(TEST_API_KEY), body).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["user"]["id"], second["user"]["id"]);

    let id: Uuid = first["user"]["id"].as_str().unwrap().parse().unwrap();
    let user = app.db(move |db| db.user_by_id(id).unwrap().unwrap()).await;
    assert_eq!(
        user.external_id_hash.as_deref(),
        Some(domain::link::sha256_hex(&format!("github:{subject}")).as_str())
    );
    assert!(
        !format!("{user:?}").contains(&subject),
        "the subject itself is stored nowhere on the account"
    );

    // Another person asking for the same username gets a suffixed one.
    let other = json!({"provider": "github", "subject": "someone-else", "username": "octo"});
    let res: Value = exchange(&app, Some(TEST_API_KEY), other)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        res["user"]["username"]
            .as_str()
            .unwrap()
            .starts_with("octo-"),
        "{res}"
    );
}

#[tokio::test]
async fn exchange_validates_its_body() {
    let app = TestApp::spawn().await;
    let res = exchange(
        &app,
        Some(TEST_API_KEY),
        json!({"provider": "Git Hub", "subject": ""}),
    )
    .await;
    let body = error_body(res, 422).await;
    assert_eq!(error_fields(&body), vec!["provider", "subject"]);
}

#[tokio::test]
async fn concurrent_registrations_of_one_username_yield_exactly_one_account() {
    let app = TestApp::spawn().await;
    let name = unique_name("race");
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let url = app.url("/auth/register");
        // Mixed case too: uniqueness ignores case.
        let username = if i % 2 == 0 {
            name.clone()
        } else {
            name.to_uppercase()
        };
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"username": username, "password": TEST_PASSWORD}))
                .send()
                .await
                .unwrap()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        11,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn usernames_differing_only_in_case_conflict() {
    let app = TestApp::spawn().await;
    let name = unique_name("Ann");
    assert_eq!(app.register(&name, TEST_PASSWORD).await.status(), 201);
    let body = error_body(app.register(&name.to_lowercase(), TEST_PASSWORD).await, 409).await;
    assert_eq!(error_fields(&body), vec!["username"]);
}

#[tokio::test]
async fn admins_list_users_page_by_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.student().await;
    }
    let res = app
        .get("/admin/users?limit=2&offset=1")
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["total"], 4);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admins_change_roles_but_never_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let student = app.student().await;
    let res = app
        .patch(&format!("/admin/users/{}/role", student.id))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "teacher"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "teacher");

    let own = app
        .patch(&format!("/admin/users/{}/role", admin.id))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "student"}))
        .send()
        .await
        .unwrap();
    error_body(own, 403).await;

    let missing = app
        .patch(&format!("/admin/users/{}/role", Uuid::new_v4()))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "teacher"}))
        .send()
        .await
        .unwrap();
    error_body(missing, 404).await;

    let bad = app
        .patch(&format!("/admin/users/{}/role", student.id))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "root"}))
        .send()
        .await
        .unwrap();
    let body = error_body(bad, 422).await;
    assert_eq!(error_fields(&body), vec!["role"]);
}

#[tokio::test]
async fn a_demoted_admin_loses_access_with_the_next_request() {
    let app = TestApp::spawn().await;
    let a = app.admin().await;
    let b = app.admin().await;
    let list = |token: String| {
        let req = app.get("/admin/users").bearer_auth(token);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(list(b.access_token.clone()).await, 200);
    let res = app
        .patch(&format!("/admin/users/{}/role", b.id))
        .bearer_auth(&a.access_token)
        .json(&json!({"role": "student"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // b's token still says "admin", but the role is read from the database.
    assert_eq!(list(b.access_token.clone()).await, 403);
}

#[tokio::test]
async fn exchange_without_a_username_derives_a_stable_one_from_the_provider() {
    let app = TestApp::spawn().await;
    let body = json!({"provider": "gitlab", "subject": "777"});
    let res: Value = exchange(&app, Some(TEST_API_KEY), body.clone())
        .await
        .json()
        .await
        .unwrap();
    let name = res["user"]["username"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("gitlab-") && name.len() == "gitlab-".len() + 8,
        "{name}"
    );
    let again: Value = exchange(&app, Some(TEST_API_KEY), body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["user"]["username"], name.as_str());
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let plain = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let user_id = user.id;
    app.db(move |db| {
        let past = Utc::now() - chrono::Duration::days(1);
        db.insert_refresh_token(&domain::user::RefreshToken {
            token_hash: domain::link::sha256_hex(plain),
            family_id: Uuid::new_v4(),
            user_id,
            expires_at: past,
            created_at: past - chrono::Duration::days(30),
            rotated_at: None,
            revoked_at: None,
        })
        .unwrap();
    })
    .await;
    let body = error_body(refresh(&app, plain).await, 401).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn racing_refreshes_of_one_token_leave_one_winner_whose_session_is_then_ended() {
    let app = TestApp::spawn().await;
    let user = app.student().await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (client, url) = (app.client.clone(), app.url("/auth/refresh"));
            let token = user.refresh_token.clone();
            tokio::spawn(async move {
                let res = client
                    .post(url)
                    .json(&json!({"refreshToken": token}))
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => winners.push(body["refreshToken"].as_str().unwrap().to_string()),
            401 => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "one rotation wins");
    // The others were replays of a rotated token: the whole family, winner included, is revoked.
    error_body(refresh(&app, &winners[0]).await, 401).await;
}

/// Creates an unpublished topic as the teacher holding `token`.
async fn draft_topic(app: &TestApp, token: &str, slug: &str) {
    let res = app
        .post("/teacher/topics")
        .bearer_auth(token)
        .json(&json!({"slug": slug, "title": "Draft"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

/// Changes a role behind the server's back, as another instance (or an operator) would.
async fn set_role_in_db(app: &TestApp, id: Uuid, role: domain::user::Role) {
    app.db(move |db| {
        db.set_role(id, role, Utc::now()).unwrap();
    })
    .await;
}

/// Whether `token`'s holder sees the draft topic `slug` in `GET /topics` (a student-audience
/// route: drafts show to teachers only, so this reads the role the route believed).
async fn sees_draft(app: &TestApp, token: &str, slug: &str) -> bool {
    let res = app.get("/topics").bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let topics: Value = res.json().await.unwrap();
    topics.as_array().unwrap().iter().any(|t| t["slug"] == slug)
}

/// A role change made elsewhere (another instance, or the database directly): teacher routes
/// see it at the very next request; routes open to any account within ACCOUNT_CACHE_SECS.
#[tokio::test]
async fn a_role_change_made_elsewhere_reaches_teacher_routes_at_once_and_others_within_the_cache_ttl(
) {
    let app = TestApp::spawn_with(&[("ACCOUNT_CACHE_SECS", "1")]).await;
    let t = app.teacher().await;
    draft_topic(&app, &t.access_token, "cache-draft").await;
    // Warms this process's account cache with role teacher.
    assert!(sees_draft(&app, &t.access_token, "cache-draft").await);

    let id = t.id;
    set_role_in_db(&app, id, domain::user::Role::Student).await;
    let teacher_route = app
        .get("/teacher/topics")
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        teacher_route.status(),
        403,
        "teacher routes re-read the role"
    );

    // The teacher route refreshed the cached entry, so student routes follow at once too.
    assert!(!sees_draft(&app, &t.access_token, "cache-draft").await);

    // Promote again behind the server's back; with no teacher route in between, a student
    // route learns it once the entry expires.
    set_role_in_db(&app, id, domain::user::Role::Teacher).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert!(sees_draft(&app, &t.access_token, "cache-draft").await);
}

/// With ACCOUNT_CACHE_SECS=0 every request reads the account.
#[tokio::test]
async fn without_the_account_cache_every_route_sees_a_role_change_at_once() {
    let app = TestApp::spawn_with(&[("ACCOUNT_CACHE_SECS", "0")]).await;
    let t = app.teacher().await;
    draft_topic(&app, &t.access_token, "nocache-draft").await;
    assert!(sees_draft(&app, &t.access_token, "nocache-draft").await);
    let id = t.id;
    set_role_in_db(&app, id, domain::user::Role::Student).await;
    assert!(!sees_draft(&app, &t.access_token, "nocache-draft").await);
}

/// An admin's role change in this process drops the cached entry: the demoted teacher's
/// student-audience routes follow at the next request too, whatever the TTL.
#[tokio::test]
async fn a_role_change_through_the_admin_api_drops_the_cached_account() {
    let app = TestApp::spawn_with(&[("ACCOUNT_CACHE_SECS", "60")]).await;
    let admin = app.admin().await;
    let t = app.teacher().await;
    draft_topic(&app, &t.access_token, "admin-draft").await;
    assert!(sees_draft(&app, &t.access_token, "admin-draft").await);
    let res = app
        .patch(&format!("/admin/users/{}/role", t.id))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "student"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!sees_draft(&app, &t.access_token, "admin-draft").await);
}
