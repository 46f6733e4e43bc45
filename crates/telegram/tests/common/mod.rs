#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use domain::{
    ports::UserRepo,
    services::telegram::issue_link_code,
    user::{NewUser, Role, User, Username},
};
use persistence::Database;
use secrecy::SecretString;
use std::{sync::Arc, time::Duration};
use telegram::{testing::FakeBotApi, BotSettings, Conversation, RunError};
use tokio::{sync::oneshot, task::JoinHandle};

pub const TOKEN: &str = "123456:test-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

pub fn add_student(db: &Database, name: &str) -> User {
    let now = domain::now();
    db.insert_user(&NewUser {
        id: uuid::Uuid::new_v4(),
        username: Username::parse(name).unwrap(),
        role: Role::Student,
        password_hash: None,
        external_id_hash: None,
        telegram_user_id: None,
        created_at: now,
    })
    .unwrap()
}

pub fn code_for(db: &Database, user: &User) -> String {
    issue_link_code(db, user.id, domain::now()).unwrap().code
}

/// Settings for a bot talking to `api_url` with `token`, polling for at most 1 s.
pub fn settings(token: &str, api_url: &str) -> BotSettings {
    BotSettings {
        token: SecretString::from(token),
        api_url: api_url.parse().unwrap(),
        poll_timeout: Duration::from_secs(1),
    }
}

/// Runs a bot with no rate limits until `shutdown` completes.
pub async fn run_bot(
    settings: BotSettings,
    db: Arc<Database>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    telegram::run(
        settings,
        move |username| Conversation::new(db, None, None, None, username),
        shutdown,
    )
    .await
}

/// A running bot against a fake Bot API; `stop` ends it and returns what `run` returned.
pub struct Running {
    pub api: FakeBotApi,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RunError>>,
}

impl Running {
    pub async fn start(db: Arc<Database>) -> Self {
        let api = FakeBotApi::start(TOKEN).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run_bot(settings(TOKEN, &api.url), db, async move {
            let _ = rx.await;
        }));
        Self {
            api,
            stop: Some(tx),
            task,
        }
    }

    /// Sends `text` from `from` in a private chat and returns the bot's next reply to it.
    pub async fn ask(&self, from: i64, text: &str) -> String {
        let before = self.api.replies().len();
        self.api.send_text(from, None, text);
        let replies = self
            .api
            .wait_for_replies(before + 1, Duration::from_secs(20))
            .await;
        let reply = replies
            .get(before)
            .unwrap_or_else(|| panic!("the bot did not answer {text:?}"))
            .clone();
        assert_eq!(reply.chat_id, from, "the reply goes to the sender's chat");
        reply.text
    }

    pub async fn stop(mut self) -> Result<(), RunError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let result = tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the bot stops within 20 s of being asked")
            .expect("the bot task does not panic");
        self.api.stop().await;
        result
    }
}
