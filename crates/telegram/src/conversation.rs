//! What the bot answers to one message. Independent of how messages arrive: [`crate::bot`]
//! feeds it from Telegram, tests call it directly.
//!
//! Never logged: message texts and link codes (a code is a credential until it is spent).

use domain::{
    link::{code_candidates, looks_like_code},
    ports::{AttemptRepo, ContentRepo, LinkRepo, UserRepo},
    rate_limit::{Quota, RateLimiter},
    services::telegram::{
        burn_link_code, linked_summary, redeem_link_code, unlink_telegram, LinkOutcome,
    },
    DomainError,
};
use std::sync::Arc;
use teloxide::utils::command::BotCommands;

/// The storage the bot needs; implemented by anything that implements the four ports.
pub trait Store: Send + Sync + 'static {
    fn users(&self) -> &dyn UserRepo;
    fn links(&self) -> &dyn LinkRepo;
    fn content(&self) -> &dyn ContentRepo;
    fn attempts(&self) -> &dyn AttemptRepo;
}

impl<T> Store for T
where
    T: UserRepo + LinkRepo + ContentRepo + AttemptRepo + 'static,
{
    fn users(&self) -> &dyn UserRepo {
        self
    }
    fn links(&self) -> &dyn LinkRepo {
        self
    }
    fn content(&self) -> &dyn ContentRepo {
        self
    }
    fn attempts(&self) -> &dyn AttemptRepo {
        self
    }
}

// The commands the bot understands (also its command menu, set at start). A plain comment:
// teloxide would print a doc comment at the head of /help.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    #[command(description = "start; with a code, link your Campus account")]
    Start(String),
    #[command(description = "link your Campus account: /link CODE")]
    Link(String),
    #[command(description = "show the linked account and your progress")]
    Me,
    #[command(description = "unlink your Campus account")]
    Unlink,
    #[command(description = "show the commands")]
    Help,
}

/// One text message, as much of it as the bot needs.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The sender's Telegram user id.
    pub telegram_user_id: i64,
    /// Whether it came from a private chat with the bot (account commands work only there).
    pub private_chat: bool,
    pub text: &'a str,
}

/// The bot's state: storage and the shared rate limiter.
#[derive(Clone)]
pub struct Conversation {
    store: Arc<dyn Store>,
    limiter: Option<Arc<dyn RateLimiter>>,
    /// Budget for link attempts per Telegram account (`RATE_LIMIT_LINK`).
    link_quota: Option<Quota>,
    /// Budget for every message per Telegram account (`RATE_LIMIT_GENERAL`).
    message_quota: Option<Quota>,
    /// The bot's username, so `/link@campus_bot CODE` is understood in groups.
    bot_username: String,
}

pub const HELP_INTRO: &str = "Campus bot. Link your Campus account to this Telegram account:\n\
    open your Campus profile, choose \"Link Telegram\", and send me the code it shows.";
pub const NOT_LINKED: &str =
    "This Telegram account is not linked to a Campus account. Send /help to see how to link it.";
pub const INVALID_CODE: &str =
    "That code is not valid: it may have expired (codes last 10 minutes) or been used already. \
     Ask Campus for a new one.";
pub const PRIVATE_ONLY: &str =
    "Account commands (/link, /me, /unlink) work only in a private chat \
     with me, so nobody else sees your code or your account.";
pub const CODE_BURNED: &str = "That code was posted where others can read it, so it no longer \
     works. Ask Campus for a new one and send it to me in a private chat.";
pub const UNAVAILABLE: &str = "Campus is unavailable right now; please try again in a minute.";

impl Conversation {
    pub fn new(
        store: Arc<dyn Store>,
        limiter: Option<Arc<dyn RateLimiter>>,
        link_quota: Option<Quota>,
        message_quota: Option<Quota>,
        bot_username: impl Into<String>,
    ) -> Self {
        Self {
            store,
            limiter,
            link_quota,
            message_quota,
            bot_username: bot_username.into(),
        }
    }

    /// The answer to one message, or `None` when the bot should stay silent (a message that
    /// is not for it in a group chat).
    pub async fn reply(&self, msg: Incoming<'_>) -> Option<String> {
        let text = msg.text.trim();
        let command = Command::parse(text, &self.bot_username).ok();
        if command.is_none() && !msg.private_chat && code_candidates(text).is_empty() {
            return None;
        }
        if let Some(wait) = self
            .spend(self.message_quota, "tg-msg", msg.telegram_user_id)
            .await
        {
            return Some(too_many("messages", wait));
        }
        let tg = msg.telegram_user_id;
        // In a group, everything but /help stays private: a code, a username and progress are
        // nobody else's business. A code posted there is spent, so nobody who read it can use it.
        if !msg.private_chat && !matches!(command, Some(Command::Help)) {
            let shown = match &command {
                Some(Command::Start(code)) | Some(Command::Link(code)) => code.clone(),
                Some(_) => String::new(),
                None => text.to_string(),
            };
            let candidates = code_candidates(&shown);
            let burned = self
                .blocking(move |s| {
                    let mut any = false;
                    for code in &candidates {
                        any |= burn_link_code(s.links(), code, domain::now())?;
                    }
                    Ok(any)
                })
                .await;
            return match burned {
                Ok(true) => Some(CODE_BURNED.to_string()),
                Ok(false) if command.is_none() => None,
                Ok(false) => Some(PRIVATE_ONLY.to_string()),
                Err(e) => {
                    tracing::error!(error = %e, "telegram bot: storage call failed");
                    Some(UNAVAILABLE.to_string())
                }
            };
        }
        let answer = match command {
            Some(Command::Help) => Ok(help()),
            Some(Command::Start(code)) if code.trim().is_empty() => Ok(help()),
            Some(Command::Start(code)) | Some(Command::Link(code)) => {
                if code.trim().is_empty() {
                    Ok("Send /link followed by the code from your Campus profile.".to_string())
                } else {
                    self.link(&msg, code).await
                }
            }
            Some(Command::Me) => self.me(tg).await,
            Some(Command::Unlink) => self.unlink(tg).await,
            // Plain text in a private chat: a pasted code, or a hint.
            None if looks_like_code(text) => self.link(&msg, text.to_string()).await,
            None => Ok(help()),
        };
        Some(answer.unwrap_or_else(|e| {
            tracing::error!(error = %e, "telegram bot: storage call failed");
            UNAVAILABLE.to_string()
        }))
    }

    async fn link(&self, msg: &Incoming<'_>, code: String) -> Result<String, DomainError> {
        let tg = msg.telegram_user_id;
        if let Some(wait) = self.spend(self.link_quota, "tg-link", tg).await {
            return Ok(too_many("link attempts", wait));
        }
        let outcome = self
            .blocking(move |s| redeem_link_code(s.users(), s.links(), &code, tg, domain::now()))
            .await?;
        tracing::info!(
            outcome = match &outcome {
                LinkOutcome::Linked { .. } => "linked",
                LinkOutcome::InvalidCode => "invalid_code",
                LinkOutcome::AlreadyLinked { .. } => "already_linked",
            },
            "telegram link attempt"
        );
        Ok(match outcome {
            LinkOutcome::Linked { username } => format!(
                "Linked to the Campus account {username}. Send /me to see your progress."
            ),
            LinkOutcome::InvalidCode => INVALID_CODE.to_string(),
            LinkOutcome::AlreadyLinked { username } => format!(
                "This Telegram account is already linked to {username}. Send /unlink first to link another account."
            ),
        })
    }

    async fn me(&self, tg: i64) -> Result<String, DomainError> {
        let summary = self
            .blocking(move |s| linked_summary(s.users(), s.content(), s.attempts(), tg))
            .await?;
        Ok(match summary {
            Some(s) => format!(
                "Linked to {}. Solved {} of {} tasks.",
                s.username, s.tasks_solved, s.tasks_total
            ),
            None => NOT_LINKED.to_string(),
        })
    }

    async fn unlink(&self, tg: i64) -> Result<String, DomainError> {
        let was = self
            .blocking(move |s| unlink_telegram(s.users(), tg, domain::now()))
            .await?;
        Ok(match was {
            Some(username) => format!("Unlinked from the Campus account {username}."),
            None => NOT_LINKED.to_string(),
        })
    }

    /// Runs a storage call on the blocking pool (the ports are synchronous).
    async fn blocking<T, F>(&self, f: F) -> Result<T, DomainError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, DomainError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| DomainError::Internal(format!("storage task failed: {e}")))?
    }

    /// Spends one unit of `prefix:tg`; `Some(seconds to wait)` when the budget is spent. A
    /// limiter that cannot answer lets the message through, as the API does.
    async fn spend(&self, quota: Option<Quota>, prefix: &str, tg: i64) -> Option<u32> {
        let (Some(limiter), Some(quota)) = (&self.limiter, quota) else {
            return None;
        };
        match limiter.check(&format!("{prefix}:{tg}"), quota).await {
            Ok(d) if !d.allowed => Some(d.retry_after_secs.max(1)),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(error = %e, "rate limiter failed; message served without a limit");
                None
            }
        }
    }
}

fn help() -> String {
    format!("{HELP_INTRO}\n\n{}", Command::descriptions())
}

fn too_many(what: &str, wait: u32) -> String {
    format!("Too many {what}; please try again in {wait} s.")
}
