//! GCRA (the generic cell rate algorithm), the one definition both limiters follow.
//!
//! A budget of `limit` requests per `window` is one number per key: the theoretical arrival
//! time (TAT), the instant at which the budget would be whole again. Each allowed request
//! pushes it forward by one emission interval `I = ceil(window / limit)`; a request is allowed
//! while `TAT + I - now <= limit * I`, so a fresh key may burst `limit` requests and then earns
//! one request back every `I`. After a full window of silence `TAT <= now` and the budget is
//! whole, which is why the key can expire exactly then.
//!
//! Every quantity is a whole number of microseconds, so the Lua copy in `gcra.lua` (whose
//! numbers are doubles, exact below 2^53) and this one compute identical answers.

use domain::rate_limit::{Decision, Quota};

/// One GCRA step's answer in microseconds, before rounding to the whole seconds of HTTP headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Microseconds until the budget is whole again.
    pub reset_us: u64,
    /// Microseconds until one more request would be allowed (0 when allowed).
    pub retry_after_us: u64,
}

impl RawDecision {
    /// Whole seconds, rounded up: a client that waits `retry_after_secs` is never refused for
    /// having come back a fraction of a second too early.
    pub fn to_decision(self) -> Decision {
        let reset_secs = ceil_secs(self.reset_us);
        let retry_after_secs = if self.allowed {
            0
        } else {
            ceil_secs(self.retry_after_us).max(1)
        };
        Decision {
            allowed: self.allowed,
            limit: self.limit,
            remaining: self.remaining,
            reset_secs,
            retry_after_secs,
        }
    }
}

fn ceil_secs(us: u64) -> u32 {
    u32::try_from(us.div_ceil(1_000_000)).unwrap_or(u32::MAX)
}

pub const MICROS_PER_SEC: u64 = 1_000_000;

/// The emission interval in microseconds (`limit` must be > 0).
pub fn interval_us(quota: Quota) -> u64 {
    (u64::from(quota.window_secs) * MICROS_PER_SEC)
        .div_ceil(u64::from(quota.limit))
        .max(1)
}

/// A quota that can never allow anything (`limit == 0`) or has no window: refused without
/// touching any store. Config validation rejects such quotas; this keeps the limiters total.
pub fn degenerate(quota: Quota) -> Option<Decision> {
    if quota.limit == 0 || quota.window_secs == 0 {
        let wait = quota.window_secs.max(1);
        Some(Decision {
            allowed: quota.limit > 0,
            limit: quota.limit,
            remaining: 0,
            reset_secs: if quota.limit > 0 { 0 } else { wait },
            retry_after_secs: if quota.limit > 0 { 0 } else { wait },
        })
    } else {
        None
    }
}

/// Spends one unit: given the stored TAT (None when the key is absent or expired) and `now`,
/// returns the decision and, when allowed, the TAT to store (it expires `reset_us` from now).
pub fn step(stored_tat: Option<u64>, now: u64, quota: Quota) -> (RawDecision, Option<u64>) {
    let interval = interval_us(quota);
    let capacity = interval * u64::from(quota.limit);
    let tat = stored_tat.map_or(now, |t| t.max(now));
    let new_tat = tat + interval;
    if new_tat - now > capacity {
        let raw = RawDecision {
            allowed: false,
            limit: quota.limit,
            remaining: 0,
            reset_us: tat - now,
            retry_after_us: new_tat - now - capacity,
        };
        return (raw, None);
    }
    let remaining = (capacity - (new_tat - now)) / interval;
    let raw = RawDecision {
        allowed: true,
        limit: quota.limit,
        remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
        reset_us: new_tat - now,
        retry_after_us: 0,
    };
    (raw, Some(new_tat))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const Q: Quota = Quota {
        limit: 5,
        window_secs: 60,
    };

    fn run(n: usize, now: u64, mut tat: Option<u64>) -> (Vec<RawDecision>, Option<u64>) {
        let mut out = Vec::new();
        for _ in 0..n {
            let (d, new) = step(tat, now, Q);
            if new.is_some() {
                tat = new;
            }
            out.push(d);
        }
        (out, tat)
    }

    #[test]
    fn a_fresh_key_bursts_exactly_limit_then_is_refused() {
        let (ds, _) = run(7, 1_000_000_000, None);
        let allowed: Vec<bool> = ds.iter().map(|d| d.allowed).collect();
        assert_eq!(allowed, [true, true, true, true, true, false, false]);
        let remaining: Vec<u32> = ds.iter().map(|d| d.remaining).collect();
        assert_eq!(remaining, [4, 3, 2, 1, 0, 0, 0]);
        // Refused: one interval (12 s) until the next request, the whole window until full.
        let denied = ds[5].to_decision();
        assert_eq!(denied.retry_after_secs, 12);
        assert_eq!(denied.reset_secs, 60);
    }

    #[test]
    fn one_request_comes_back_per_interval_and_all_after_a_window() {
        let now = 5_000_000_000;
        let (_, tat) = run(5, now, None);
        let (d, _) = step(tat, now + 11_999_999, Q);
        assert!(
            !d.allowed,
            "one microsecond before the interval is too early"
        );
        let (d, _) = step(tat, now + 12_000_000, Q);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        let (ds, _) = run(6, now + 60_000_000, tat);
        assert_eq!(ds.iter().filter(|d| d.allowed).count(), 5);
    }

    #[test]
    fn retry_after_is_at_least_one_second_when_refused() {
        let q = Quota {
            limit: 1000,
            window_secs: 1,
        };
        let now = 42;
        let mut tat = None;
        for _ in 0..1000 {
            tat = step(tat, now, q).1;
        }
        let (d, new) = step(tat, now, q);
        assert!(!d.allowed && new.is_none());
        assert_eq!(d.to_decision().retry_after_secs, 1);
        assert_eq!(d.to_decision().reset_secs, 1);
    }

    #[test]
    fn degenerate_quotas_never_touch_a_store() {
        let closed = degenerate(Quota {
            limit: 0,
            window_secs: 60,
        })
        .unwrap();
        assert!(!closed.allowed);
        assert_eq!(closed.retry_after_secs, 60);
        assert!(degenerate(Q).is_none());
    }

    #[test]
    fn after_one_burst_the_long_run_rate_is_the_quota() {
        // GCRA bounds the burst at `limit` and the rate at `limit / window`; unlike a sliding
        // window log it does not cap every 60 s span at `limit` (a burst plus its refill can
        // reach 2 * limit - 1 in the first window). Over 3 windows of requests every
        // millisecond: the burst plus exactly one request per interval, never more.
        let q = Quota {
            limit: 7,
            window_secs: 60,
        };
        let interval = interval_us(q);
        let horizon = 180_000_000u64;
        let mut tat = None;
        let mut allowed = 0u64;
        let mut now = 0u64;
        while now < horizon {
            let (d, new) = step(tat, now, q);
            if d.allowed {
                allowed += 1;
                tat = new;
            }
            now += 1_000;
        }
        assert_eq!(allowed, 7 + (horizon - 1) / interval);
    }
}
