//! The long-polling loop: teloxide's dispatcher feeds each private or group text message to
//! [`Conversation::reply`] and sends the answer back. Messages of one chat are handled in
//! order; different chats run concurrently.

use crate::conversation::{Command, Conversation, Incoming};
use secrecy::{ExposeSecret, SecretString};
use std::{future::Future, sync::Arc, time::Duration};
use teloxide::{
    dispatching::{Dispatcher, UpdateFilterExt},
    error_handlers::LoggingErrorHandler,
    prelude::*,
    types::Update,
    update_listeners::Polling,
    utils::command::BotCommands,
};

/// Where the Bot API is and how the bot talks to it.
#[derive(Clone)]
pub struct BotSettings {
    pub token: SecretString,
    /// `https://api.telegram.org` in production; a fake on 127.0.0.1 in tests.
    pub api_url: url::Url,
    /// How long one `getUpdates` call may wait for news (long polling).
    pub poll_timeout: Duration,
}

impl std::fmt::Debug for BotSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotSettings")
            .field("token", &"[redacted]")
            .field("api_url", &self.api_url.as_str())
            .field("poll_timeout", &self.poll_timeout)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// `getMe` failed: a wrong token, or the Bot API cannot be reached.
    #[error("the Telegram Bot API refused or did not answer getMe: {0}")]
    Api(String),
}

/// Runs the bot until `shutdown` completes (then finishes the messages in hand and returns).
/// `conversation` is built once the bot knows its own username.
pub async fn run<F>(
    settings: BotSettings,
    conversation: impl FnOnce(String) -> Conversation,
    shutdown: F,
) -> Result<(), RunError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let client = teloxide::net::default_reqwest_settings()
        // A long poll must not be cut by the client's own timeout.
        .timeout(settings.poll_timeout + Duration::from_secs(15))
        .build()
        .map_err(|e| RunError::Client(e.to_string()))?;
    let bot = Bot::with_client(settings.token.expose_secret(), client)
        .set_api_url(settings.api_url.clone());
    let me = bot
        .get_me()
        .await
        .map_err(|e| RunError::Api(e.to_string()))?;
    let username = me.username().to_string();
    if let Err(e) = bot.set_my_commands(Command::bot_commands()).await {
        tracing::warn!(error = %e, "telegram bot: could not set the command menu");
    }
    let conversation = Arc::new(conversation(username.clone()));

    let handler = Update::filter_message().endpoint(answer);
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler)
        .dependencies(teloxide::dptree::deps![conversation])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text(
            "telegram bot: a reply could not be sent",
        ))
        .build();
    let token = dispatcher.shutdown_token();
    let stopper = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("telegram bot: stopping");
        // The token refuses while the dispatcher is still starting; try again shortly.
        loop {
            match token.shutdown() {
                Ok(done) => {
                    done.await;
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    let listener = Polling::builder(bot)
        .timeout(settings.poll_timeout)
        .delete_webhook()
        .await
        .build();
    tracing::info!(bot = %username, "telegram bot: polling for updates");
    let result = dispatcher
        .try_dispatch_with_listener(
            listener,
            LoggingErrorHandler::with_custom_text("telegram bot: polling failed"),
        )
        .await
        .map_err(|e| RunError::Api(e.to_string()));
    stopper.abort();
    result
}

async fn answer(bot: Bot, msg: Message, conversation: Arc<Conversation>) -> ResponseResult<()> {
    let (Some(text), Some(from)) = (msg.text(), msg.from.as_ref()) else {
        return Ok(());
    };
    let Ok(telegram_user_id) = i64::try_from(from.id.0) else {
        return Ok(());
    };
    let incoming = Incoming {
        telegram_user_id,
        private_chat: msg.chat.is_private(),
        text,
    };
    if let Some(reply) = conversation.reply(incoming).await {
        bot.send_message(msg.chat.id, reply).await?;
    }
    Ok(())
}
