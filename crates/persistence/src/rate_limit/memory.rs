//! The in-process limiter: the same GCRA as Redis (`gcra::step`), one TAT per key in a map.
//!
//! Used alone when Campus runs as one embedded instance (no `REDIS_URL`), and by
//! `FallbackLimiter` while Redis is away. Its budgets are per process: two instances each
//! allow the whole limit. Memory stays bounded: entries whose TAT has passed (budget whole
//! again, so forgetting them changes nothing) are swept periodically, and past `max_keys`
//! live entries the ones closest to whole are evicted first (a flood of distinct keys then
//! costs those keys part of their history rather than the server its memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::rate_limit::{Decision, LimiterUnavailable, Quota, RateLimiter};

use super::gcra;

/// Default bound on tracked keys (about 10 MB of keys and TATs at worst).
pub const DEFAULT_MAX_KEYS: usize = 100_000;
/// Default interval between sweeps of expired entries.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(10);

pub struct MemoryLimiter {
    state: Mutex<State>,
    /// Monotonic origin: wall-clock jumps never refill or drain a budget.
    origin: Instant,
    max_keys: usize,
    sweep_interval_us: u64,
}

struct State {
    tats: HashMap<String, u64>,
    next_sweep_us: u64,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_KEYS, DEFAULT_SWEEP_INTERVAL)
    }
}

impl std::fmt::Debug for MemoryLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimiter")
            .field("tracked_keys", &self.tracked_keys())
            .field("max_keys", &self.max_keys)
            .finish()
    }
}

impl MemoryLimiter {
    pub fn new(max_keys: usize, sweep_interval: Duration) -> Self {
        let sweep_interval_us = u64::try_from(sweep_interval.as_micros()).unwrap_or(u64::MAX);
        Self {
            state: Mutex::new(State {
                tats: HashMap::new(),
                next_sweep_us: sweep_interval_us,
            }),
            origin: Instant::now(),
            max_keys: max_keys.max(1),
            sweep_interval_us,
        }
    }

    /// Keys currently held (live budgets plus expired ones not yet swept).
    pub fn tracked_keys(&self) -> usize {
        self.lock().tats.len()
    }

    /// Spends one unit of `key`'s budget; never fails.
    pub fn check_now(&self, key: &str, quota: Quota) -> Decision {
        if let Some(d) = gcra::degenerate(quota) {
            return d;
        }
        let now = self.now_us();
        let mut state = self.lock();
        let stored = state.tats.get(key).copied();
        // A full map is swept only when a new key needs room, so requests for known keys
        // never pay for a sweep outside the regular interval.
        let full = stored.is_none() && state.tats.len() >= self.max_keys;
        if now >= state.next_sweep_us || full {
            state.tats.retain(|_, tat| *tat > now);
            state.next_sweep_us = now.saturating_add(self.sweep_interval_us);
        }
        if full && state.tats.len() >= self.max_keys {
            evict_closest_to_whole(&mut state.tats, self.max_keys);
        }
        // A swept key had a TAT in the past: the same as no key.
        let stored = stored.filter(|tat| *tat > now);
        let (raw, new_tat) = gcra::step(stored, now, quota);
        if let Some(tat) = new_tat {
            match state.tats.get_mut(key) {
                Some(slot) => *slot = tat,
                None => {
                    state.tats.insert(key.to_owned(), tat);
                }
            }
        }
        raw.to_decision()
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The map holds plain numbers; a panic elsewhere cannot leave it half-updated.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Frees a tenth of the capacity, dropping the entries with the earliest TAT.
fn evict_closest_to_whole(tats: &mut HashMap<String, u64>, max_keys: usize) {
    let target = max_keys - max_keys / 10 - 1;
    let excess = tats.len().saturating_sub(target);
    if excess == 0 {
        return;
    }
    let mut by_tat: Vec<(u64, String)> = tats.iter().map(|(k, t)| (*t, k.clone())).collect();
    by_tat.select_nth_unstable_by_key(excess - 1, |(t, _)| *t);
    for (_, key) in by_tat.into_iter().take(excess) {
        tats.remove(&key);
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimiterUnavailable> {
        Ok(self.check_now(key, quota))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn distinct_keys_have_distinct_budgets() {
        let l = MemoryLimiter::default();
        let q = Quota {
            limit: 2,
            window_secs: 60,
        };
        assert!(l.check_now("a", q).allowed);
        assert!(l.check_now("a", q).allowed);
        assert!(!l.check_now("a", q).allowed);
        assert!(l.check_now("b", q).allowed);
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_within_max_keys() {
        let l = MemoryLimiter::new(100, Duration::from_secs(3600));
        let q = Quota {
            limit: 5,
            window_secs: 3600,
        };
        for i in 0..10_000 {
            l.check_now(&format!("ip:{i}"), q);
            assert!(l.tracked_keys() <= 100);
        }
        // The newest key is still tracked after the evictions.
        assert_eq!(l.check_now("ip:9999", q).remaining, 3);
    }

    #[test]
    fn expired_entries_are_swept() {
        let l = MemoryLimiter::new(1000, Duration::from_millis(1));
        let q = Quota {
            limit: 1,
            window_secs: 1,
        };
        for i in 0..50 {
            l.check_now(&format!("k{i}"), q);
        }
        assert_eq!(l.tracked_keys(), 50);
        std::thread::sleep(Duration::from_millis(1100));
        l.check_now("fresh", q);
        assert_eq!(l.tracked_keys(), 1);
    }
}
