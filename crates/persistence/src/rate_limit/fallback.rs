//! Redis first, the in-process limiter while Redis is away.
//!
//! The choice (documented in `docs/rate-limiting.md`): when Redis fails Campus keeps serving
//! and keeps limiting, per instance, rather than refusing everything (fail closed) or limiting
//! nothing (fail open). The switch is logged once each way, `status()` feeds `/ready`, and
//! Redis is probed again at most once per `probe_interval` (the request that does it waits at
//! most the connect/command timeouts; the others go straight to memory).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::rate_limit::{Decision, LimiterUnavailable, Quota, RateLimiter};

use super::{MemoryLimiter, RedisLimiter};

pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// What `/ready` reports about the limiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimiterStatus {
    pub degraded: bool,
    /// Why, while degraded (the Redis error; never a key or the URL).
    pub reason: Option<String>,
}

pub struct FallbackLimiter {
    redis: RedisLimiter,
    memory: MemoryLimiter,
    degraded: AtomicBool,
    reason: Mutex<Option<String>>,
    origin: Instant,
    /// Microseconds since `origin` of the last attempt to reach Redis while degraded.
    last_probe_us: AtomicU64,
    probe_interval_us: u64,
    degradations: AtomicU64,
    recoveries: AtomicU64,
}

impl std::fmt::Debug for FallbackLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackLimiter")
            .field("redis", &self.redis)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl FallbackLimiter {
    pub fn new(redis: RedisLimiter, memory: MemoryLimiter, probe_interval: Duration) -> Self {
        Self {
            redis,
            memory,
            degraded: AtomicBool::new(false),
            reason: Mutex::new(None),
            origin: Instant::now(),
            last_probe_us: AtomicU64::new(0),
            probe_interval_us: u64::try_from(probe_interval.as_micros()).unwrap_or(u64::MAX),
            degradations: AtomicU64::new(0),
            recoveries: AtomicU64::new(0),
        }
    }

    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }

    pub fn status(&self) -> LimiterStatus {
        let degraded = self.is_degraded();
        let reason = if degraded {
            self.reason_lock().clone()
        } else {
            None
        };
        LimiterStatus { degraded, reason }
    }

    /// How many times the limiter switched to memory / back to Redis (each switch logs once).
    pub fn degradations(&self) -> u64 {
        self.degradations.load(Ordering::Relaxed)
    }

    pub fn recoveries(&self) -> u64 {
        self.recoveries.load(Ordering::Relaxed)
    }

    /// Pings Redis now, whatever the probe interval, and updates the state; for start-up, so a
    /// Redis that is down from the start is reported at once rather than at the first request.
    pub async fn probe_now(&self) -> LimiterStatus {
        self.mark_probe();
        match self.redis.ping().await {
            Ok(()) => self.recover(),
            Err(e) => self.degrade(&e),
        }
        self.status()
    }

    /// While degraded, pings Redis if a probe is due, so `/ready` notices a recovery even when
    /// no limited request comes in. Costs nothing while healthy.
    pub async fn refresh(&self) -> LimiterStatus {
        if self.is_degraded() && self.claim_probe() {
            match self.redis.ping().await {
                Ok(()) => self.recover(),
                Err(e) => self.note_reason(&e),
            }
        }
        self.status()
    }

    fn degrade(&self, error: &LimiterUnavailable) {
        self.note_reason(error);
        if self
            .degraded
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.mark_probe();
            self.degradations.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                reason = %error,
                "rate limiter degraded: Redis is unavailable, limits are now per instance (in memory) until it returns"
            );
        }
    }

    fn recover(&self) {
        if self
            .degraded
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            *self.reason_lock() = None;
            self.recoveries.fetch_add(1, Ordering::Relaxed);
            tracing::info!("rate limiter recovered: Redis is back, limits are shared again");
        }
    }

    fn note_reason(&self, error: &LimiterUnavailable) {
        *self.reason_lock() = Some(error.to_string());
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn mark_probe(&self) {
        self.last_probe_us.store(self.now_us(), Ordering::Release);
    }

    /// True for exactly one caller per probe interval.
    fn claim_probe(&self) -> bool {
        let now = self.now_us();
        let last = self.last_probe_us.load(Ordering::Acquire);
        now.saturating_sub(last) >= self.probe_interval_us
            && self
                .last_probe_us
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    fn reason_lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl RateLimiter for FallbackLimiter {
    /// Never fails: Redis's answer when it can be had, the in-process limiter's otherwise.
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimiterUnavailable> {
        if !self.is_degraded() || self.claim_probe() {
            match self.redis.check(key, quota).await {
                Ok(decision) => {
                    self.recover();
                    return Ok(decision);
                }
                Err(e) => {
                    if self.is_degraded() {
                        self.note_reason(&e);
                    } else {
                        self.degrade(&e);
                    }
                }
            }
        }
        Ok(self.memory.check_now(key, quota))
    }
}
