//! A failure that is Campus's fault answers 500 with a generic message and the request id in
//! `X-Request-Id`; the cause goes to the log line carrying that id, never to the client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, TestApp};
use serde_json::{json, Value};
use std::{
    io::Write,
    sync::{Arc, Mutex},
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_storage_failure_is_a_generic_500_and_its_cause_is_logged_with_the_request_id() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let (db, dir) = tokio::task::spawn_blocking(persistence::testing::fresh_sqlite)
        .await
        .unwrap();
    let raw = db.clone();
    let app = TestApp::start(test_config(&[]), Arc::new(db), None, Some(dir)).await;
    let user = app.student().await;

    // Break the storage under the running server.
    tokio::task::spawn_blocking(move || {
        persistence::testing::execute_raw(&raw, "DROP TABLE refresh_tokens").unwrap()
    })
    .await
    .unwrap();
    let res = app
        .post("/auth/refresh")
        .json(&json!({"refreshToken": user.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let request_id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("refresh_tokens") && !text.contains("no such table"),
        "no cause sent: {body}"
    );

    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    let line = logged
        .lines()
        .find(|l| l.contains("internal error") && l.contains(&request_id))
        .unwrap_or_else(|| {
            panic!("no internal-error line with request id {request_id} in:\n{logged}")
        });
    assert!(
        line.to_lowercase().contains("refresh_tokens"),
        "the cause is in the log line: {line}"
    );
}
