//! Nothing the bot logs, at any level, carries the bot token, a link code or a message's text:
//! all three are captured at TRACE (teloxide's `log` records included) through a link, a
//! refused code, a failed API call and a stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{add_student, code_for, Running, TOKEN};
use std::{
    io::Write,
    sync::{Arc, Mutex},
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn no_token_code_or_message_text_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber of this test binary");

    let (db, _dir) = persistence::testing::fresh_sqlite();
    let db = Arc::new(db);
    let alice = add_student(&db, "alice");
    let code = code_for(&db, &alice);
    let bot = Running::start(db.clone()).await;
    let secret_words = "my-private-words-42";
    // An update this teloxide cannot read (a negative sender id): teloxide's dispatcher would
    // log it whole, text included.
    let unreadable = "unreadable-update-words-43";
    bot.api.send_raw(serde_json::json!({"message": {
        "message_id": 1, "date": 1, "chat": {"id": 1, "type": "private", "first_name": "S"},
        "from": {"id": -5, "is_bot": false, "first_name": "S"}, "text": unreadable
    }}));
    bot.ask(1, secret_words).await;
    bot.ask(1, "/link WRONG234").await;
    bot.ask(1, &format!("/link {code}")).await;
    bot.ask(1, "/me").await;
    bot.stop().await.unwrap();

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("telegram link attempt")
            && logs.contains("polling for updates")
            && logs.contains("skipped an update"),
        "the capture works: {logs}"
    );
    let (_, token_secret) = TOKEN.split_once(':').unwrap();
    for (what, needle) in [
        ("the bot token", token_secret),
        ("a link code", code.as_str()),
        ("a refused code", "WRONG234"),
        ("a message text", secret_words),
        ("an unreadable update's text", unreadable),
    ] {
        assert!(!logs.contains(needle), "{what} was logged:\n{logs}");
    }
}
