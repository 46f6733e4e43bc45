//! The Redis limiter: GCRA in one Lua script, so one request costs one round trip (EVALSHA)
//! and every Campus instance spends the same budget.
//!
//! Connections come from a deadpool-redis pool, whose connect timeout makes a dead Redis fail
//! fast. The pool pings a connection on every checkout (its recycle check), which would double
//! the round trips; so one checked-out multiplexed connection (it pipelines concurrent
//! commands over one socket) is kept and cloned per request, and replaced through the pool
//! only after it fails. `redis::Script` sends EVALSHA and, if Redis answers NOSCRIPT (after a
//! restart or SCRIPT FLUSH), loads the script and retries once.

use std::sync::Mutex;
use std::time::Duration;

use deadpool_redis::redis::{self, aio::MultiplexedConnection};
use deadpool_redis::{Pool, PoolConfig, Runtime, Timeouts};
use domain::rate_limit::{Decision, LimiterUnavailable, Quota, RateLimiter};

use super::gcra::{self, RawDecision};

/// The prefix of every key the limiter writes.
pub const KEY_NAMESPACE: &str = "campus:rl:";

const SCRIPT: &str = include_str!("gcra.lua");

/// How to reach Redis. The URL may hold a password: it is never logged or put in errors.
#[derive(Clone)]
pub struct RedisLimiterSettings {
    pub url: String,
    /// Bound on opening a connection (TCP + handshake).
    pub connect_timeout: Duration,
    /// Bound on one script call, so a hung Redis costs a request this much at most.
    pub command_timeout: Duration,
    pub pool_size: usize,
}

impl RedisLimiterSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connect_timeout: Duration::from_millis(250),
            command_timeout: Duration::from_millis(250),
            pool_size: 4,
        }
    }
}

impl std::fmt::Debug for RedisLimiterSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiterSettings")
            .field("url", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

pub struct RedisLimiter {
    pool: Pool,
    shared: Mutex<Option<MultiplexedConnection>>,
    script: redis::Script,
    settings: RedisLimiterSettings,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The URL could not be understood (nothing was contacted).
#[derive(Debug, thiserror::Error)]
#[error("invalid Redis URL for the rate limiter: {0}")]
pub struct InvalidRedisUrl(String);

impl RedisLimiter {
    /// Builds the pool; connects lazily, so this succeeds while Redis is down.
    pub fn new(settings: RedisLimiterSettings) -> Result<Self, InvalidRedisUrl> {
        let mut timeouts = Timeouts::new();
        timeouts.create = Some(settings.connect_timeout);
        timeouts.wait = Some(settings.connect_timeout);
        timeouts.recycle = Some(settings.command_timeout);
        let mut pool_config = PoolConfig::new(settings.pool_size.max(1));
        pool_config.timeouts = timeouts;
        let mut config = deadpool_redis::Config::from_url(settings.url.clone());
        config.pool = Some(pool_config);
        // The error text of a bad URL does not echo the URL itself.
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| InvalidRedisUrl(e.to_string()))?;
        Ok(Self {
            pool,
            shared: Mutex::new(None),
            script: redis::Script::new(SCRIPT),
            settings,
        })
    }

    /// One PING; for readiness and for probing while degraded.
    pub async fn ping(&self) -> Result<(), LimiterUnavailable> {
        let mut conn = self.connection().await?;
        let reply = tokio::time::timeout(
            self.settings.command_timeout,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await;
        self.settle(reply).map(|_| ())
    }

    async fn connection(&self) -> Result<MultiplexedConnection, LimiterUnavailable> {
        if let Some(conn) = self.lock().as_ref() {
            return Ok(conn.clone());
        }
        // The pool's create/wait timeouts bound this; the outer timeout is belt and braces.
        let object = tokio::time::timeout(self.settings.connect_timeout * 2, self.pool.get())
            .await
            .map_err(|_| LimiterUnavailable("redis: connect timed out".into()))?
            .map_err(|e| LimiterUnavailable(format!("redis: {e}")))?;
        let conn: MultiplexedConnection = (*object).clone();
        *self.lock() = Some(conn.clone());
        Ok(conn)
    }

    /// Maps a timed call's outcome; any failure drops the shared connection so the next
    /// request gets a fresh one (the pool checks it with a PING first).
    fn settle<T>(
        &self,
        reply: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, LimiterUnavailable> {
        let error = match reply {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => format!("redis: {e}"),
            Err(_) => "redis: command timed out".to_owned(),
        };
        *self.lock() = None;
        Err(LimiterUnavailable(error))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimiterUnavailable> {
        if let Some(d) = gcra::degenerate(quota) {
            return Ok(d);
        }
        let mut conn = self.connection().await?;
        let full_key = format!("{KEY_NAMESPACE}{key}");
        let mut invocation = self.script.key(full_key);
        invocation.arg(quota.limit).arg(gcra::interval_us(quota));
        let reply = tokio::time::timeout(
            self.settings.command_timeout,
            invocation.invoke_async::<Vec<i64>>(&mut conn),
        )
        .await;
        let values = self.settle(reply)?;
        parse_reply(&values).map(RawDecision::to_decision)
    }
}

fn parse_reply(values: &[i64]) -> Result<RawDecision, LimiterUnavailable> {
    let [allowed, limit, remaining, reset_us, retry_after_us] = values else {
        return Err(LimiterUnavailable(format!(
            "redis: the limiter script answered {} values, expected 5",
            values.len()
        )));
    };
    let num = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(RawDecision {
        allowed: *allowed == 1,
        limit: u32::try_from(*limit).unwrap_or(0),
        remaining: u32::try_from(*remaining).unwrap_or(0),
        reset_us: num(*reset_us),
        retry_after_us: num(*retry_after_us),
    })
}
