//! Rate limiting per route class, shared by every instance through Redis.
//!
//! - [`config`]: the budgets (`RATE_LIMIT_*`), part of the one `Config`.
//! - [`Limiter`]: the store, chosen once at start: Redis with an in-process fallback when
//!   `REDIS_URL` is set (required in production), the in-process limiter alone otherwise.
//! - [`middleware::RateLimit`]: wraps every route of the registry with its class's budget,
//!   keyed by account (a verified access token) or by client address; sets the
//!   `RateLimit-*` headers on every limited response, `Retry-After` and a JSON body on a 429.
//! - [`login::check_username`]: the per-username sign-in budget, spent in the login handler.
//!
//! The algorithm, keys and fallback are described in `docs/rate-limiting.md`.

pub mod client;
pub mod config;
pub mod login;
pub mod middleware;
pub mod openapi;

pub use config::RateLimitConfig;
pub use middleware::RateLimit;

use crate::{
    config::Config,
    routes::health::{Check, CheckStatus},
};
use domain::rate_limit::{Decision, Quota, RateLimiter};
use persistence::rate_limit::{FallbackLimiter, MemoryLimiter, RedisLimiter, RedisLimiterSettings};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// The limiter of one Campus process; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    /// No `REDIS_URL`: budgets are per instance by design.
    Memory(Arc<MemoryLimiter>),
    /// Redis, with the in-process limiter while Redis is away.
    Redis(Arc<FallbackLimiter>),
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("Limiter").field("backend", &kind).finish()
    }
}

/// The same store as a `domain` port, for callers outside HTTP (the Telegram bot).
#[async_trait::async_trait]
impl RateLimiter for Limiter {
    async fn check(
        &self,
        key: &str,
        quota: Quota,
    ) -> Result<Decision, domain::rate_limit::LimiterUnavailable> {
        self.port().check(key, quota).await
    }
}

impl Limiter {
    /// Builds the limiter `config` asks for, logging once how limits are shared. With Redis,
    /// probes it once so a Redis that is down at start is reported now (serving starts anyway).
    pub async fn start(config: &Config) -> Result<Self, crate::config::ConfigError> {
        let rl = &config.rate_limit;
        let memory = MemoryLimiter::new(
            rl.memory_max_keys,
            persistence::rate_limit::DEFAULT_SWEEP_INTERVAL,
        );
        let Some(url) = &config.redis_url else {
            tracing::warn!(
                "rate limits are per instance: REDIS_URL is not set, so each Campus process counts its own \
                 requests (fine for one embedded instance; set REDIS_URL when running several)"
            );
            return Ok(Self {
                backend: Backend::Memory(Arc::new(memory)),
            });
        };
        let mut settings = RedisLimiterSettings::new(url.expose_secret());
        settings.connect_timeout = rl.redis_timeout;
        settings.command_timeout = rl.redis_timeout;
        let redis =
            RedisLimiter::new(settings).map_err(|e| crate::config::ConfigError::Invalid {
                var: "REDIS_URL",
                message: e.to_string(),
            })?;
        let fallback = Arc::new(FallbackLimiter::new(redis, memory, rl.probe_interval));
        let status = fallback.probe_now().await;
        if !status.degraded {
            tracing::info!("rate limits are shared through Redis");
        }
        Ok(Self {
            backend: Backend::Redis(fallback),
        })
    }

    /// A limiter over the in-process store alone (unit tests, tools).
    pub fn in_memory() -> Self {
        Self {
            backend: Backend::Memory(Arc::new(MemoryLimiter::default())),
        }
    }

    /// Spends one unit of `key`. `None` only if the store failed outright, which the fallback
    /// design makes impossible in practice; the request is then served unlimited.
    pub async fn check(&self, key: &str, quota: Quota) -> Option<Decision> {
        match self.port().check(key, quota).await {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::debug!(error = %e, "rate limiter failed; request served without a limit");
                None
            }
        }
    }

    fn port(&self) -> &dyn RateLimiter {
        match &self.backend {
            Backend::Memory(m) => m.as_ref(),
            Backend::Redis(f) => f.as_ref(),
        }
    }

    /// Whether limits are being kept in Redis right now.
    pub fn is_shared(&self) -> bool {
        matches!(&self.backend, Backend::Redis(f) if !f.is_degraded())
    }

    /// The `/ready` line: ok (Redis, or memory by configuration) or degraded (Redis configured
    /// but away: the fallback serves, per instance). Probes Redis if a probe is due, so
    /// readiness notices a recovery even without limited traffic.
    pub async fn ready_check(&self) -> Check {
        let (status, detail) = match &self.backend {
            Backend::Memory(_) => (
                CheckStatus::Ok,
                Some("in-process limiter: limits are per instance (no REDIS_URL)".to_string()),
            ),
            Backend::Redis(f) => {
                let s = f.refresh().await;
                if s.degraded {
                    let why = s.reason.unwrap_or_else(|| "Redis unavailable".into());
                    (
                        CheckStatus::Degraded,
                        Some(format!(
                            "Redis unavailable ({why}); limits are per instance until it returns"
                        )),
                    )
                } else {
                    (CheckStatus::Ok, None)
                }
            }
        };
        Check {
            name: "rateLimiter".into(),
            status,
            detail,
        }
    }
}
