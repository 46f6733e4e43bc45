//! The long-polling loop: teloxide's dispatcher feeds each private or group text message to
//! [`Conversation::reply`] and sends the answer back. Messages of one chat are handled in
//! order; different chats run concurrently.
//!
//! What reaches the logs from here is redacted: teloxide's own error handlers print whole
//! updates and raw Bot API bodies (message texts, codes), so the listener drops updates this
//! teloxide cannot read before the dispatcher logs them, and errors are logged by kind only.

use crate::conversation::{Command, Conversation, Incoming};
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use std::{future::Future, pin::Pin, sync::Arc, time::Duration};
use teloxide::{
    dispatching::{Dispatcher, UpdateFilterExt},
    prelude::*,
    stop::StopToken,
    types::{AllowedUpdate, Update, UpdateKind},
    update_listeners::{AsUpdateStream, Polling, UpdateListener},
    utils::command::BotCommands,
    RequestError,
};
use tokio_util::sync::CancellationToken;

/// How long a stop may take once asked for: the message in hand is finished if it can be in
/// this time; a Bot API that hangs or answers 5xx (teloxide then waits 10 s) does not hold the
/// process past it.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

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

/// Runs the bot until `shutdown` completes, then stops polling, finishes the messages in hand
/// (for at most [`STOP_GRACE`]) and returns `Ok`. A stop asked for while starting returns at
/// once. `conversation` is built once the bot knows its own username.
pub async fn run<F>(
    settings: BotSettings,
    conversation: impl FnOnce(String) -> Conversation,
    shutdown: F,
) -> Result<(), RunError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let stop = CancellationToken::new();
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("telegram bot: stopping");
            stop.cancel();
        })
    };
    let result = tokio::select! {
        r = serve(settings, conversation, stop.clone()) => r,
        // Started or not, the process leaves within the grace period once asked to stop.
        _ = async { stop.cancelled().await; tokio::time::sleep(STOP_GRACE).await } => {
            tracing::warn!("telegram bot: the Bot API did not let go in time; stopped anyway");
            Ok(())
        }
    };
    watcher.abort();
    result
}

async fn serve(
    settings: BotSettings,
    conversation: impl FnOnce(String) -> Conversation,
    stop: CancellationToken,
) -> Result<(), RunError> {
    let client = teloxide::net::default_reqwest_settings()
        // A long poll must not be cut by the client's own timeout.
        .timeout(settings.poll_timeout + Duration::from_secs(15))
        .build()
        .map_err(|e| RunError::Client(e.to_string()))?;
    let bot = Bot::with_client(settings.token.expose_secret(), client)
        .set_api_url(settings.api_url.clone());
    let me = tokio::select! {
        me = bot.get_me() => me.map_err(|e| RunError::Api(describe(&e)))?,
        _ = stop.cancelled() => return Ok(()),
    };
    let username = me.username().to_string();
    tokio::select! {
        r = bot.set_my_commands(Command::bot_commands()) => {
            if let Err(e) = r {
                tracing::warn!(error = %describe(&e), "telegram bot: could not set the command menu");
            }
        }
        _ = stop.cancelled() => return Ok(()),
    }
    let conversation = Arc::new(conversation(username.clone()));

    let handler = Update::filter_message().endpoint(answer);
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler)
        .dependencies(teloxide::dptree::deps![conversation])
        .default_handler(|_| async {})
        .error_handler(Arc::new(|e: RequestError| async move {
            log_request_error("a reply could not be sent", &e);
        }))
        .build();
    let token = dispatcher.shutdown_token();
    let stopper = tokio::spawn({
        let stop = stop.clone();
        async move {
            stop.cancelled().await;
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
        }
    });
    let listener = tokio::select! {
        l = Polling::builder(bot).timeout(settings.poll_timeout).delete_webhook() => l.build(),
        _ = stop.cancelled() => return Ok(()),
    };
    tracing::info!(bot = %username, "telegram bot: polling for updates");
    let listener_errors = Arc::new(|e: RequestError| async move {
        log_request_error("polling failed", &e);
    });
    let result = dispatcher
        .try_dispatch_with_listener(Redacting(listener), listener_errors)
        .await
        .map_err(|e| RunError::Api(describe(&e)));
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
        match bot.send_message(msg.chat.id, reply.clone()).await {
            // Telegram's flood control: wait as told (within reason) and send once more.
            Err(RequestError::RetryAfter(wait)) if wait.duration() <= MAX_FLOOD_WAIT => {
                tokio::time::sleep(wait.duration()).await;
                bot.send_message(msg.chat.id, reply).await?;
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// The longest flood-control wait a reply is held for; past it the reply is dropped (logged).
const MAX_FLOOD_WAIT: Duration = Duration::from_secs(30);

/// A Bot API error, told without anything a user wrote: an unparsable body is described by
/// its position only (serde's message may quote the offending value).
pub fn describe(e: &RequestError) -> String {
    match e {
        RequestError::InvalidJson { source, .. } => format!(
            "the Bot API answered JSON this teloxide cannot read (line {}, column {}, {:?})",
            source.line(),
            source.column(),
            source.classify()
        ),
        // Telegram's own descriptions ("Forbidden: bot was blocked by the user"), migrations,
        // retry hints, and network errors (teloxide removes the token from their URL).
        other => other.to_string(),
    }
}

/// Logs a Bot API error by kind: what users do (block the bot, delete a chat) or Telegram's
/// flood control is a warning; the rest is an error.
fn log_request_error(context: &str, e: &RequestError) {
    let error = describe(e);
    match e {
        RequestError::Api(_) | RequestError::RetryAfter(_) | RequestError::MigrateToChatId(_) => {
            tracing::warn!(%error, "telegram bot: {context}")
        }
        _ => tracing::error!(%error, "telegram bot: {context}"),
    }
}

/// A listener that hands on what polling yields, minus updates teloxide could not parse (teloxide's
/// dispatcher would log them whole) and with raw bodies cut out of errors.
struct Redacting(Polling<Bot>);

type UpdateStream<'a> =
    Pin<Box<dyn futures_util::Stream<Item = Result<Update, RequestError>> + Send + 'a>>;

impl<'a> AsUpdateStream<'a> for Redacting {
    type StreamErr = RequestError;
    type Stream = UpdateStream<'a>;

    fn as_stream(&'a mut self) -> Self::Stream {
        Box::pin(self.0.as_stream().filter_map(|item| async move {
            match item {
                Ok(update) if matches!(update.kind, UpdateKind::Error(_)) => {
                    tracing::warn!(
                        update_id = update.id.0,
                        "telegram bot: skipped an update this teloxide cannot read"
                    );
                    None
                }
                Ok(update) => Some(Ok(update)),
                Err(RequestError::InvalidJson { source, .. }) => {
                    Some(Err(RequestError::InvalidJson {
                        source,
                        raw: "[redacted]".into(),
                    }))
                }
                Err(e) => Some(Err(e)),
            }
        }))
    }
}

impl UpdateListener for Redacting {
    type Err = RequestError;

    fn stop_token(&mut self) -> StopToken {
        self.0.stop_token()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.0.hint_allowed_updates(hint)
    }
}
