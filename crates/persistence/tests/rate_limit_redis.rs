//! The rate limiters against a real Redis: the shared one on 127.0.0.1:6379 (or
//! `CAMPUS_TEST_REDIS_URL`) and private `redis-server` processes on spare ports for the tests
//! that stop, hang or restart Redis. A missing Redis fails these tests; nothing is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use domain::rate_limit::{Decision, Quota, RateLimiter, RouteClass};
use persistence::rate_limit::{
    bucket_key, FallbackLimiter, MemoryLimiter, RedisLimiter, RedisLimiterSettings, KEY_NAMESPACE,
};
use redis::AsyncCommands;

const START_REDIS: &str = "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no";

fn shared_url() -> String {
    std::env::var("CAMPUS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn raw_conn(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    match tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    {
        Ok(Ok(conn)) => conn,
        _ => {
            panic!("Redis is not reachable at {url}; these tests need a real Redis: {START_REDIS}")
        }
    }
}

/// The shared Redis, checked up front so a missing server fails with instructions.
async fn shared_redis() -> String {
    let url = shared_url();
    let mut conn = raw_conn(&url).await;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    url
}

fn limiter(url: &str) -> RedisLimiter {
    RedisLimiter::new(RedisLimiterSettings::new(url)).unwrap()
}

/// A key no other test (or test run) uses.
fn fresh_key(label: &str) -> String {
    bucket_key(
        RouteClass::General,
        &format!("test:{label}:{}", uuid::Uuid::new_v4()),
    )
}

fn quota(limit: u32, window_secs: u32) -> Quota {
    Quota { limit, window_secs }
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` this test owns, on its own port; killed on drop.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let mut r = PrivateRedis {
            port: spare_port(),
            child: None,
        };
        r.restart().await;
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn restart(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server ({e}); install redis-server"));
        self.child = Some(child);
        for _ in 0..100 {
            let client = redis::Client::open(self.url()).unwrap();
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server on port {} did not start", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let status = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.signal("-CONT");
        }
        self.stop();
    }
}

async fn spend(l: &dyn RateLimiter, key: &str, q: Quota, n: usize) -> Vec<Decision> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(l.check(key, q).await.unwrap());
    }
    out
}

fn allowed(ds: &[Decision]) -> usize {
    ds.iter().filter(|d| d.allowed).count()
}

#[tokio::test]
async fn redis_allows_the_limit_then_refuses_with_retry_after() {
    let url = shared_redis().await;
    let l = limiter(&url);
    let key = fresh_key("limit");
    let ds = spend(&l, &key, quota(5, 60), 7).await;
    let flags: Vec<bool> = ds.iter().map(|d| d.allowed).collect();
    assert_eq!(flags, [true, true, true, true, true, false, false]);
    let remaining: Vec<u32> = ds.iter().map(|d| d.remaining).collect();
    assert_eq!(remaining, [4, 3, 2, 1, 0, 0, 0]);
    assert!(ds.iter().all(|d| d.limit == 5));
    for d in &ds[..5] {
        assert_eq!(d.retry_after_secs, 0);
    }
    // One request is earned back every 60/5 = 12 s; the whole budget after a full window.
    let refused = ds[5];
    assert!((11..=12).contains(&refused.retry_after_secs), "{refused:?}");
    assert!((59..=60).contains(&refused.reset_secs), "{refused:?}");
}

#[tokio::test]
async fn redis_budget_is_whole_again_after_the_window() {
    let url = shared_redis().await;
    let l = limiter(&url);
    let key = fresh_key("window");
    let q = quota(3, 1);
    let first = spend(&l, &key, q, 4).await;
    assert_eq!(allowed(&first), 3);
    assert!(!first[3].allowed);
    assert_eq!(first[3].retry_after_secs, 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = spend(&l, &key, q, 4).await;
    assert_eq!(allowed(&second), 3, "{second:?}");
    assert_eq!(second[0].remaining, 2);
}

#[tokio::test]
async fn two_limiters_with_separate_pools_share_one_budget() {
    let url = shared_redis().await;
    let a = limiter(&url);
    let b = limiter(&url);
    let key = fresh_key("shared");
    let q = quota(5, 60);
    let mut n = 0;
    for i in 0..12 {
        let l = if i % 2 == 0 { &a } else { &b };
        if l.check(&key, q).await.unwrap().allowed {
            n += 1;
        }
    }
    assert_eq!(n, 5, "two instances must spend one budget of 5, not 2 x 5");
}

#[tokio::test]
async fn concurrent_checks_never_overspend_the_budget() {
    let url = shared_redis().await;
    let a = std::sync::Arc::new(limiter(&url));
    let b = std::sync::Arc::new(limiter(&url));
    let key = fresh_key("race");
    let q = quota(10, 60);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let l = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move { l.check(&key, q).await.unwrap() }));
    }
    let mut ds = Vec::new();
    for t in tasks {
        ds.push(t.await.unwrap());
    }
    assert_eq!(allowed(&ds), 10);
    let mut remaining: Vec<u32> = ds
        .iter()
        .filter(|d| d.allowed)
        .map(|d| d.remaining)
        .collect();
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..10).collect::<Vec<_>>(),
        "each unit spent once"
    );
}

#[tokio::test]
async fn memory_and_redis_give_the_same_decisions() {
    let url = shared_redis().await;
    let redis = limiter(&url);
    let memory = MemoryLimiter::default();
    for q in [quota(5, 60), quota(1, 1), quota(7, 10), quota(600, 60)] {
        let key = fresh_key("twin");
        let n = q.limit as usize + 3;
        let from_redis = spend(&redis, &key, q, n).await;
        let from_memory = spend(&memory, &key, q, n).await;
        for (r, m) in from_redis.iter().zip(&from_memory) {
            assert_eq!(
                (r.allowed, r.limit, r.remaining),
                (m.allowed, m.limit, m.remaining),
                "quota {q:?}: redis {r:?} vs memory {m:?}"
            );
            assert!(r.reset_secs.abs_diff(m.reset_secs) <= 1, "{r:?} vs {m:?}");
            assert!(
                r.retry_after_secs.abs_diff(m.retry_after_secs) <= 1,
                "{r:?} vs {m:?}"
            );
        }
    }
}

#[tokio::test]
async fn keys_are_namespaced_and_expire_when_the_budget_is_whole() {
    let url = shared_redis().await;
    let l = limiter(&url);
    let key = fresh_key("ttl");
    assert!(key.starts_with("general:test:ttl:"));
    l.check(&key, quota(4, 60)).await.unwrap();
    let mut conn = raw_conn(&url).await;
    let full = format!("{KEY_NAMESPACE}{key}");
    assert!(full.starts_with("campus:rl:general:"));
    let pttl: i64 = conn.pttl(&full).await.unwrap();
    // One request of 4-per-minute keeps the key 15 s, never forever (-1) or absent (-2).
    assert!((14_000..=15_000).contains(&pttl), "pttl {pttl}");

    let short = fresh_key("ttl-short");
    l.check(&short, quota(2, 1)).await.unwrap();
    let full_short = format!("{KEY_NAMESPACE}{short}");
    assert!(conn.exists::<_, bool>(&full_short).await.unwrap());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !conn.exists::<_, bool>(&full_short).await.unwrap(),
        "a key whose budget is whole again must be gone"
    );
}

#[tokio::test]
async fn the_script_is_reloaded_after_redis_forgets_it() {
    let server = PrivateRedis::start().await;
    let l = limiter(&server.url());
    let key = fresh_key("noscript");
    let q = quota(3, 60);
    assert!(l.check(&key, q).await.unwrap().allowed);
    let mut conn = raw_conn(&server.url()).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    let d = l.check(&key, q).await.unwrap();
    assert!(d.allowed);
    assert_eq!(d.remaining, 1, "same budget after the reload");
}

#[tokio::test]
async fn a_dead_redis_is_an_error_not_a_hang() {
    let l = limiter(&format!("redis://127.0.0.1:{}", spare_port()));
    let outcome = tokio::time::timeout(Duration::from_secs(5), l.check("k", quota(5, 60))).await;
    let err = outcome
        .expect("a refused connection must fail, not hang")
        .unwrap_err();
    assert!(err.to_string().contains("redis"), "{err}");
}

#[tokio::test]
async fn a_hung_redis_times_out() {
    let server = PrivateRedis::start().await;
    let l = limiter(&server.url());
    let key = fresh_key("hung");
    assert!(l.check(&key, quota(5, 60)).await.is_ok());
    server.signal("-STOP");
    let outcome = tokio::time::timeout(Duration::from_secs(5), l.check(&key, quota(5, 60))).await;
    server.signal("-CONT");
    let err = outcome.expect("the command timeout must fire").unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn fallback_on_a_dead_port_keeps_limiting_in_memory_and_reports_degraded() {
    let dead = format!("redis://127.0.0.1:{}", spare_port());
    let l = FallbackLimiter::new(
        limiter(&dead),
        MemoryLimiter::default(),
        Duration::from_secs(60),
    );
    assert!(!l.is_degraded());
    let key = fresh_key("dead");
    let ds = spend(&l, &key, quota(5, 60), 30).await;
    assert_eq!(allowed(&ds), 5, "memory still enforces the quota");
    assert!(l.is_degraded());
    let status = l.status();
    assert!(status.degraded);
    let reason = status.reason.unwrap();
    assert!(reason.contains("redis"), "{reason}");
    assert!(!reason.contains(&key), "no key in the reason");
    assert_eq!(
        l.degradations(),
        1,
        "degraded once, logged once, not per request"
    );
}

#[tokio::test]
async fn probe_now_reports_a_redis_that_is_down_from_the_start() {
    let dead = format!("redis://127.0.0.1:{}", spare_port());
    let l = FallbackLimiter::new(
        limiter(&dead),
        MemoryLimiter::default(),
        Duration::from_secs(60),
    );
    assert!(l.probe_now().await.degraded);
    let url = shared_redis().await;
    let ok = FallbackLimiter::new(
        limiter(&url),
        MemoryLimiter::default(),
        Duration::from_secs(60),
    );
    assert!(!ok.probe_now().await.degraded);
}

#[tokio::test]
async fn fallback_goes_back_to_redis_when_it_returns() {
    let mut server = PrivateRedis::start().await;
    let l = FallbackLimiter::new(
        limiter(&server.url()),
        MemoryLimiter::default(),
        Duration::from_millis(200),
    );
    let key = fresh_key("recovery");
    let q = quota(100, 60);
    assert!(l.check(&key, q).await.unwrap().allowed);
    assert!(!l.is_degraded());

    server.stop();
    let during = spend(&l, &key, q, 20).await;
    assert_eq!(allowed(&during), 20, "serving goes on from memory");
    assert!(l.is_degraded());
    assert_eq!(l.degradations(), 1);

    // Still down after a probe interval: the probe fails quietly, still degraded.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(l.check(&key, q).await.unwrap().allowed);
    assert!(l.is_degraded());
    assert_eq!(l.degradations(), 1);

    server.restart().await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let back = l.check(&key, q).await.unwrap();
    assert!(back.allowed);
    assert!(!l.is_degraded(), "{:?}", l.status());
    assert_eq!(l.recoveries(), 1);
    // The restarted Redis (empty) now holds the budget: the decision came from Redis.
    assert_eq!(back.remaining, 99);
    let mut conn = raw_conn(&server.url()).await;
    assert!(conn
        .exists::<_, bool>(format!("{KEY_NAMESPACE}{key}"))
        .await
        .unwrap());
}

#[tokio::test]
async fn refresh_notices_recovery_without_traffic() {
    let mut server = PrivateRedis::start().await;
    let l = FallbackLimiter::new(
        limiter(&server.url()),
        MemoryLimiter::default(),
        Duration::from_millis(100),
    );
    server.stop();
    assert!(l.probe_now().await.degraded);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(l.refresh().await.degraded, "still down");
    server.restart().await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!l.refresh().await.degraded);
    assert_eq!((l.degradations(), l.recoveries()), (1, 1));
}
