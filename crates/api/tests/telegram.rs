//! Linking Telegram end to end: a link code over HTTP, `campus bot`'s wiring (`api::bot::run`)
//! polling a fake Bot API on 127.0.0.1 against the same database, and the web account showing
//! and dropping the link.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{error_body, test_config, TestApp};
use serde_json::Value;
use std::time::Duration;
use telegram::{conversation::NOT_LINKED, testing::FakeBotApi};
use tokio::sync::oneshot;

const TOKEN: &str = "4242:campus-test-token-CCCCCCCCCCCCCCCCCCCCCCCCCC";

async fn me(app: &TestApp, token: &str) -> Value {
    let res = app.get("/me").bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// `campus bot`'s configuration on `database_url`, with a Bot API address nobody answers.
fn bot_config(database_url: &str) -> api::config::Config {
    test_config(&[
        ("DATABASE_URL", database_url),
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_API_URL", "http://127.0.0.1:9/"),
    ])
}

async fn link_code(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/me/telegram/link-code")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn ask(api: &FakeBotApi, from: i64, text: &str) -> String {
    let before = api.replies().len();
    api.send_text(from, None, text);
    let replies = api
        .wait_for_replies(before + 1, Duration::from_secs(20))
        .await;
    replies
        .get(before)
        .unwrap_or_else(|| panic!("no answer to {text:?}"))
        .text
        .clone()
}

#[actix_web::test]
async fn a_code_from_the_web_links_through_the_bot_and_the_web_can_unlink() {
    let app = TestApp::spawn_with(&[("TELEGRAM_BOT_USERNAME", "campus_test_bot")]).await;
    let student = app.student().await;
    assert_eq!(
        me(&app, &student.access_token).await["telegramLinked"],
        false
    );

    let res = link_code(&app, &student.access_token).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "deepLink", "expiresAt"]);
    let code = body["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8);
    assert_eq!(
        body["deepLink"],
        format!("https://t.me/campus_test_bot?start={code}")
    );

    // `campus bot`, on the same database, polling the fake Bot API.
    let api = FakeBotApi::start(TOKEN).await.unwrap();
    let config = test_config(&[
        ("DATABASE_URL", app.sqlite_url.as_deref().unwrap()),
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_API_URL", &api.url),
        ("TELEGRAM_POLL_TIMEOUT_SECS", "1"),
    ]);
    let (stop, stopped) = oneshot::channel::<()>();
    let bot = tokio::spawn(api::bot::run(config, async move {
        let _ = stopped.await;
    }));

    let linked = ask(&api, 31337, &format!("/link {code}")).await;
    assert!(linked.contains(&student.username), "{linked}");
    assert_eq!(
        me(&app, &student.access_token).await["telegramLinked"],
        true
    );
    assert!(ask(&api, 31337, "/me").await.contains(&student.username));

    let res = app
        .delete("/me/telegram")
        .bearer_auth(&student.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        me(&app, &student.access_token).await["telegramLinked"],
        false
    );
    assert_eq!(ask(&api, 31337, "/me").await, NOT_LINKED);

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(20), bot)
        .await
        .expect("the bot stops on its signal")
        .unwrap()
        .expect("the bot ran cleanly");
}

#[actix_web::test]
async fn without_a_bot_username_there_is_no_deep_link_and_codes_are_fresh_each_time() {
    let app = TestApp::spawn().await;
    let student = app.student().await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        let res = link_code(&app, &student.access_token).await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        assert!(body.get("deepLink").is_none(), "{body}");
        codes.push(body["code"].as_str().unwrap().to_string());
    }
    assert_ne!(codes[0], codes[1]);
}

#[actix_web::test]
async fn link_codes_have_their_own_budget() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_LINK", "2/60")]).await;
    let student = app.student().await;
    for _ in 0..2 {
        let res = link_code(&app, &student.access_token).await;
        assert_eq!(res.status(), 201);
    }
    let res = link_code(&app, &student.access_token).await;
    error_body(res, 429).await;
}

#[actix_web::test]
async fn the_bot_command_needs_a_token_and_says_so() {
    let err = api::bot::run(test_config(&[]), std::future::pending())
        .await
        .expect_err("no token, no bot");
    assert!(err.to_string().contains("TELEGRAM_BOT_TOKEN"), "{err}");
}

#[actix_web::test]
async fn the_bot_never_creates_or_migrates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("campus.db");
    let url = format!("sqlite://{}", missing.display());
    let err = api::bot::run(bot_config(&url), std::future::pending())
        .await
        .expect_err("no database, no bot");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!missing.exists(), "the bot created a database file");

    // An existing but unmigrated database is refused too.
    let (db, dir) = persistence::testing::fresh_sqlite_unmigrated();
    drop(db);
    let url = format!("sqlite://{}", dir.path().join("campus-test.db").display());
    let err = api::bot::run(bot_config(&url), std::future::pending())
        .await
        .expect_err("an unmigrated database is refused");
    assert!(err.to_string().contains("pending migration"), "{err}");
}
