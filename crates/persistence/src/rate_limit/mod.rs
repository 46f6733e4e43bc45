//! Rate limiting shared by every Campus instance (the `domain::rate_limit::RateLimiter` port).
//!
//! - [`RedisLimiter`]: GCRA in a Lua script, one round trip per request, keys
//!   `campus:rl:{class}:{subject}` that expire when their budget is whole again.
//! - [`MemoryLimiter`]: the same GCRA in process, for the embedded single-instance set-up.
//! - [`FallbackLimiter`]: Redis, falling back to memory while Redis is unreachable.
//!
//! Why GCRA rather than a sliding window: one integer per key (a sliding-window log keeps a
//! sorted set of every request, a window counter two keys and an approximation), exact
//! `remaining`/`reset`/`retry-after` answers, and a smooth refill, so a client that was
//! refused gets one request back after `window / limit` instead of all of them at a boundary.

mod fallback;
mod gcra;
mod memory;
mod redis;

pub use fallback::{FallbackLimiter, LimiterStatus, DEFAULT_PROBE_INTERVAL};
pub use memory::{MemoryLimiter, DEFAULT_MAX_KEYS, DEFAULT_SWEEP_INTERVAL};
pub use redis::{InvalidRedisUrl, RedisLimiter, RedisLimiterSettings, KEY_NAMESPACE};

use domain::rate_limit::RouteClass;

/// The key of one budget below the namespace: `{class}:{subject}`, e.g. `auth:ip:10.0.0.7`.
/// `subject` says what is counted (`ip:…`, `user:…`, `login:…`); it holds no secret.
pub fn bucket_key(class: RouteClass, subject: &str) -> String {
    format!("{}:{subject}", class.as_str())
}
