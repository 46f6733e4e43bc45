//! The rate-limiting port. `persistence` provides a Redis limiter shared by all instances and
//! an in-process one; `api` applies them per route class.

use crate::string_enum;

string_enum! {
    /// Which budget a request spends.
    pub enum RouteClass {
        Auth => "auth",
        Submit => "submit",
        Llm => "llm",
        Link => "link",
        General => "general",
    }
}

/// A budget: `limit` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window_secs: u32,
}

/// The outcome of spending one unit of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the budget is whole again (`RateLimit-Reset`).
    pub reset_secs: u32,
    /// Seconds to wait before a retry can succeed (`Retry-After`), 0 when allowed.
    pub retry_after_secs: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("rate limiter backend unavailable: {0}")]
pub struct LimiterUnavailable(pub String);

/// Spends one unit of the budget `key` in one atomic step.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimiterUnavailable>;
}
