//! `campus bot`: wires the Telegram bot (crate `telegram`) to the database and the shared
//! rate limiter, and runs it until SIGINT or SIGTERM. One bot process per token.

use crate::{config::Config, database, rate_limit::Limiter};
use anyhow::{anyhow, Context};
use domain::rate_limit::{RateLimiter, RouteClass};
use std::{future::Future, sync::Arc};
use telegram::Conversation;

/// Runs the bot until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let settings = config.telegram.clone().ok_or_else(|| {
        anyhow!("TELEGRAM_BOT_TOKEN: is required by `campus bot` (the token BotFather issued)")
    })?;
    let db = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || database::open_existing(&config))
            .await
            .context("opening the database failed")??
    };
    let limiter: Arc<dyn RateLimiter> = Arc::new(Limiter::start(&config).await?);
    let link_quota = config.rate_limit.quota(RouteClass::Link);
    let message_quota = config.rate_limit.quota(RouteClass::General);
    let db = Arc::new(db);
    telegram::run(
        settings,
        move |username| Conversation::new(db, Some(limiter), link_quota, message_quota, username),
        shutdown,
    )
    .await
    .map_err(|e| anyhow!("{e}"))
}

/// Completes on SIGINT or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
