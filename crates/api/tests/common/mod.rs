//! Test harness: a real Campus server on 127.0.0.1:0 against a fresh database, in the test's
//! own tokio runtime, and a reqwest client. Shared by every integration test of `api`.
//!
//! `TestApp::spawn()` uses a new SQLite file; `TestApp::spawn_postgres()` a new PostgreSQL
//! schema (the test fails when PostgreSQL is down; it never skips). `student()`, `teacher()`
//! and `admin()` create an account through the database port, set its role and sign it in
//! over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use api::{
    auth::password,
    config::Config,
    server::{Dependencies, Server},
    state::{AppState, Store},
};
use chrono::Utc;
use domain::user::{NewUser, Role, Username};
use persistence::testing::TempDir;
use serde_json::{json, Value};
use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc,
};
use uuid::Uuid;

/// The secrets every test server uses, so tests can forge tokens and call the front-end route.
pub const TEST_JWT_SECRET: &str = "test-jwt-key-4f1c9e2ab7d35086e1f4c2a9b8d7e6f5";
pub const TEST_API_KEY: &str = "test-api-key-9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d";
pub const TEST_PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub state: AppState,
    /// `sqlite://...` of the test database when it is SQLite (to open a second connection).
    pub sqlite_url: Option<String>,
    _dir: Option<TempDir>,
}

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub username: String,
    pub password: String,
    pub role: Role,
    pub access_token: String,
    pub refresh_token: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A username no other test in this process uses.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r = &Uuid::new_v4().simple().to_string()[..6];
    format!("{prefix}{n}x{r}")
}

/// The configuration of a test server; `extra` overrides or adds variables.
pub fn test_config(extra: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vec![
        ("CAMPUS_ADDR".into(), "127.0.0.1:0".into()),
        ("JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("BACKEND_API_KEY".into(), TEST_API_KEY.into()),
        ("RUST_LOG".into(), "info".into()),
    ];
    // Budgets high enough that functional tests (all from 127.0.0.1) never meet a limit;
    // rate-limit tests set their own through `extra`.
    for var in [
        "RATE_LIMIT_AUTH",
        "RATE_LIMIT_SUBMIT",
        "RATE_LIMIT_LLM",
        "RATE_LIMIT_LINK",
        "RATE_LIMIT_GENERAL",
        "RATE_LIMIT_LOGIN_USERNAME",
    ] {
        vars.push((var.into(), "100000/60".into()));
    }
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push((k.to_string(), v.to_string()));
    }
    Config::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

impl TestApp {
    /// A server on a fresh SQLite file.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// A server on a fresh SQLite file with extra configuration.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let (db, dir) = tokio::task::spawn_blocking(persistence::testing::fresh_sqlite)
            .await
            .unwrap();
        Self::start(test_config(extra), Arc::new(db), None, Some(dir)).await
    }

    /// A server on a fresh PostgreSQL schema. Fails (never skips) when PostgreSQL is down.
    pub async fn spawn_postgres() -> Self {
        let db = tokio::task::spawn_blocking(persistence::testing::fresh_postgres)
            .await
            .unwrap();
        Self::start(test_config(&[]), Arc::new(db), None, None).await
    }

    /// A server on any store and grader, for tests that bring their own.
    pub async fn start(
        config: Config,
        db: Arc<dyn Store>,
        grader: Option<Arc<dyn domain::grading::Grader>>,
        dir: Option<TempDir>,
    ) -> Self {
        let server = Server::build_with(config, Dependencies { db, grader })
            .await
            .unwrap();
        let port = server.port();
        let state = server.state().clone();
        tokio::spawn(server.run());
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
            sqlite_url: dir
                .as_ref()
                .map(|d| format!("sqlite://{}", d.path().join("campus-test.db").display())),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.patch(self.url(path))
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path))
    }

    /// Runs a blocking closure against the database (as the server does).
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> T + Send + 'static,
    ) -> T {
        let db = Arc::clone(&self.state.db);
        tokio::task::spawn_blocking(move || f(db.as_ref()))
            .await
            .unwrap()
    }

    pub async fn register(&self, username: &str, password: &str) -> reqwest::Response {
        self.post("/auth/register")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post("/auth/login")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// A new student, registered over HTTP.
    pub async fn student(&self) -> TestUser {
        let username = unique_name("stu");
        let res = self.register(&username, TEST_PASSWORD).await;
        assert_eq!(res.status(), 201, "registering {username}");
        let body: Value = res.json().await.unwrap();
        user_from(&body, &username, Role::Student)
    }

    pub async fn teacher(&self) -> TestUser {
        self.user_with_role(Role::Teacher).await
    }

    pub async fn admin(&self) -> TestUser {
        self.user_with_role(Role::Admin).await
    }

    /// Creates an account through the database port (as `campus user create` does), sets its
    /// role, and signs it in over HTTP.
    pub async fn user_with_role(&self, role: Role) -> TestUser {
        let username = unique_name(role.as_str());
        let name = Username::parse(&username).unwrap();
        let hash = tokio::task::spawn_blocking(|| password::hash(TEST_PASSWORD).unwrap())
            .await
            .unwrap();
        self.db(move |db| {
            let now = Utc::now();
            let user = db
                .insert_user(&NewUser {
                    id: Uuid::new_v4(),
                    username: name,
                    role: Role::Student,
                    password_hash: Some(hash),
                    external_id_hash: None,
                    telegram_user_id: None,
                    created_at: now,
                })
                .unwrap();
            db.set_role(user.id, role, now).unwrap();
        })
        .await;
        let res = self.login(&username, TEST_PASSWORD).await;
        assert_eq!(res.status(), 200, "signing in {username}");
        let body: Value = res.json().await.unwrap();
        user_from(&body, &username, role)
    }
}

fn user_from(body: &Value, username: &str, role: Role) -> TestUser {
    TestUser {
        id: body["user"]["id"].as_str().unwrap().parse().unwrap(),
        username: username.to_string(),
        password: TEST_PASSWORD.to_string(),
        role,
        access_token: body["accessToken"].as_str().unwrap().to_string(),
        refresh_token: body["refreshToken"].as_str().unwrap().to_string(),
    }
}

/// Asserts the Campus error shape and returns the body.
pub async fn error_body(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status(), status, "status");
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "error shape: {body}");
    assert!(body["error"]["message"].is_string(), "error shape: {body}");
    body
}

/// The field names of a validation error body.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}
