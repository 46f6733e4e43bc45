//! Rate limiting end to end: real Campus servers (`TestApp`) against a real Redis (the shared
//! one on 127.0.0.1:6379, or `CAMPUS_TEST_REDIS_URL`), and private `redis-server` processes on
//! spare ports for the tests that stop and restart Redis. A missing Redis fails; nothing skips.
//!
//! Tests that share the Redis on 6379 send each request "from" an address of their own
//! (`X-Forwarded-For`, believed because 127.0.0.1 is configured as a trusted proxy), so
//! parallel tests and earlier runs never spend each other's budgets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{error_body, unique_name, TestApp, TEST_PASSWORD};
use serde_json::Value;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const START_REDIS: &str =
    "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no";

fn shared_redis_url() -> String {
    std::env::var("CAMPUS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// `host port` of a redis URL, for redis-cli.
fn host_port(url: &str) -> (String, String) {
    let rest = url.trim_start_matches("redis://");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split('/').next().unwrap();
    let (h, p) = rest.rsplit_once(':').unwrap_or((rest, "6379"));
    (h.to_string(), p.to_string())
}

fn redis_cli(url: &str, args: &[&str]) -> Option<String> {
    let (host, port) = host_port(url);
    let out = Command::new("redis-cli")
        .args(["-h", &host, "-p", &port])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The shared Redis, checked first so that a missing one fails with instructions.
fn shared_redis() -> String {
    let url = shared_redis_url();
    let pong = redis_cli(&url, &["ping"]);
    assert_eq!(
        pong.as_deref(),
        Some("PONG"),
        "Redis is not reachable at {url}; {START_REDIS}"
    );
    url
}

/// A client address no other test uses (TEST-NET and benchmarking ranges are never real peers).
fn fresh_ip() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    format!("198.{}.{}.{}", 18 + (b[0] & 1), b[1], b[2].max(1))
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
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server ({e}); install redis-server"));
        self.child = Some(child);
        for _ in 0..100 {
            if redis_cli(&self.url(), &["ping"]).as_deref() == Some("PONG") {
                return;
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
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server limited through `redis_url`, believing `X-Forwarded-For` from 127.0.0.1.
async fn app(redis_url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("REDIS_URL", redis_url), ("TRUSTED_PROXIES", "127.0.0.1")];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

fn header(res: &reqwest::Response, name: &str) -> Option<u32> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

/// (status, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After)
type Seen = (u16, Option<u32>, Option<u32>, Option<u32>, Option<u32>);

fn seen(res: &reqwest::Response) -> Seen {
    (
        res.status().as_u16(),
        header(res, "ratelimit-limit"),
        header(res, "ratelimit-remaining"),
        header(res, "ratelimit-reset"),
        header(res, "retry-after"),
    )
}

async fn health_from(app: &TestApp, ip: &str) -> reqwest::Response {
    app.get("/health")
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
}

async fn login_from(app: &TestApp, ip: &str, username: &str, password: &str) -> reqwest::Response {
    app.post("/auth/login")
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Registers a student "from" `ip` (not from 127.0.0.1, whose budget other tests would share).
async fn student_from(app: &TestApp, ip: &str) -> (String, String) {
    let username = unique_name("rl");
    let res = app
        .post("/auth/register")
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({"username": username, "password": TEST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "registering {username}");
    let body: Value = res.json().await.unwrap();
    (username, body["accessToken"].as_str().unwrap().to_string())
}

async fn ready(app: &TestApp) -> Value {
    let res = app
        .get("/ready")
        .header("x-forwarded-for", fresh_ip())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "degraded or not, the server stays ready");
    res.json().await.unwrap()
}

fn limiter_check(ready: &Value) -> &Value {
    ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rateLimiter")
        .expect("a rateLimiter check")
}

#[tokio::test]
async fn two_instances_sharing_redis_share_one_limit() {
    let redis = shared_redis();
    let a = app(&redis, &[("RATE_LIMIT_GENERAL", "5/60")]).await;
    let b = app(&redis, &[("RATE_LIMIT_GENERAL", "5/60")]).await;
    assert_ne!(a.port, b.port);
    let ip = fresh_ip();
    let mut ok = 0;
    for i in 0..12 {
        let server = if i % 2 == 0 { &a } else { &b };
        let res = health_from(server, &ip).await;
        match res.status().as_u16() {
            200 => ok += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 5, "two instances must spend one budget of 5, not 2 x 5");
}

#[tokio::test]
async fn a_signed_in_account_has_one_budget_across_instances_and_addresses() {
    let redis = shared_redis();
    let a = app(&redis, &[("RATE_LIMIT_GENERAL", "4/60")]).await;
    let b = app(&redis, &[("RATE_LIMIT_GENERAL", "4/60")]).await;
    // Registration is an Auth route; the account's token verifies on both (same JWT key).
    let (_, token) = student_from(&a, &fresh_ip()).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let server = if i % 2 == 0 { &a } else { &b };
        let res = server
            .get("/health")
            .header("x-forwarded-for", fresh_ip())
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429, 429],
        "keyed by account, not by the changing address"
    );
}

#[tokio::test]
async fn a_forged_token_does_not_buy_a_fresh_budget() {
    let redis = shared_redis();
    let a = app(&redis, &[("RATE_LIMIT_GENERAL", "2/60")]).await;
    let ip = fresh_ip();
    assert_eq!(health_from(&a, &ip).await.status(), 200);
    assert_eq!(health_from(&a, &ip).await.status(), 200);
    assert_eq!(health_from(&a, &ip).await.status(), 429);
    // Unverifiable tokens (garbage, or well-formed but signed with another key) count as the
    // address, which is spent.
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDEifQ.c2lnbmF0dXJl";
    for token in ["garbage", forged] {
        let res = a
            .get("/health")
            .header("x-forwarded-for", &ip)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            429,
            "token {token:?} must not reset the budget"
        );
    }
}

#[tokio::test]
async fn the_window_resets() {
    let redis = shared_redis();
    let a = app(&redis, &[("RATE_LIMIT_GENERAL", "3/1")]).await;
    let ip = fresh_ip();
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(health_from(&a, &ip).await.status().as_u16());
    }
    assert_eq!(first, [200, 200, 200, 429]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut second = Vec::new();
    for _ in 0..4 {
        second.push(health_from(&a, &ip).await.status().as_u16());
    }
    assert_eq!(
        second,
        [200, 200, 200, 429],
        "the whole budget is back after the window"
    );
}

#[tokio::test]
async fn headers_are_right_on_allowed_and_refused_responses() {
    let redis = shared_redis();
    let a = app(&redis, &[("RATE_LIMIT_GENERAL", "3/60")]).await;
    let ip = fresh_ip();
    for remaining in [2, 1, 0] {
        let res = health_from(&a, &ip).await;
        let (status, limit, left, reset, retry) = seen(&res);
        assert_eq!(
            (status, limit, left, retry),
            (200, Some(3), Some(remaining), None)
        );
        // One request is earned back every 20 s: the budget is whole 20 s per spent request.
        let spent = 3 - remaining;
        let reset = reset.unwrap();
        assert!(
            (20 * spent - 1..=20 * spent).contains(&reset),
            "reset {reset} after {spent} requests"
        );
    }
    let res = health_from(&a, &ip).await;
    let (status, limit, left, reset, retry) = seen(&res);
    assert_eq!((status, limit, left), (429, Some(3), Some(0)));
    let retry = retry.expect("a 429 carries Retry-After");
    assert!((19..=20).contains(&retry), "retry-after {retry}");
    assert!((59..=60).contains(&reset.unwrap()), "reset {reset:?}");
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/json"
    );
    let body = error_body(res, 429).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("retry"),
        "{body}"
    );
}

#[tokio::test]
async fn sign_in_brute_force_is_stopped_per_username_across_addresses() {
    let redis = shared_redis();
    // The documented defaults (the harness raises every budget for functional tests).
    let defaults = [
        ("RATE_LIMIT_AUTH", "10/60"),
        ("RATE_LIMIT_LOGIN_USERNAME", "5/60"),
    ];
    let a = app(&redis, &defaults).await;
    let b = app(&redis, &defaults).await;
    let (victim, _) = student_from(&a, &fresh_ip()).await;
    // Five wrong guesses, each from a different address, alternating instances.
    for (i, remaining) in [4, 3, 2, 1, 0].into_iter().enumerate() {
        let server = if i % 2 == 0 { &a } else { &b };
        let name = if i == 3 {
            victim.to_uppercase()
        } else {
            victim.clone()
        };
        let res = login_from(server, &fresh_ip(), &name, "wrong-password-123").await;
        let (status, limit, left, _, _) = seen(&res);
        assert_eq!(
            (status, limit, left),
            (401, Some(5), Some(remaining)),
            "guess {i}"
        );
    }
    // The sixth, from yet another address and with the right password, is refused before the
    // password is looked at.
    let res = login_from(&b, &fresh_ip(), &victim, TEST_PASSWORD).await;
    let (status, limit, left, _, retry) = seen(&res);
    assert_eq!((status, limit, left), (429, Some(5), Some(0)));
    assert!(retry.unwrap() >= 1);
    let body = error_body(res, 429).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another account from those same addresses is not affected.
    let (other, _) = student_from(&a, &fresh_ip()).await;
    let res = login_from(&a, &fresh_ip(), &other, TEST_PASSWORD).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn sign_in_is_limited_per_address_and_forged_forwarding_does_not_help() {
    // This test's client address is 127.0.0.1 itself, so it gets a Redis of its own.
    let redis = PrivateRedis::start().await;
    // No trusted proxy: X-Forwarded-For from the client must be ignored.
    let a = TestApp::spawn_with(&[
        ("REDIS_URL", redis.url().as_str()),
        ("RATE_LIMIT_AUTH", "3/60"),
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = login_from(
            &a,
            &fresh_ip(),
            &unique_name("nobody"),
            "wrong-password-123",
        )
        .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    assert_eq!(
        redis_cli(&redis.url(), &["exists", "campus:rl:auth:ip:127.0.0.1"]).as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn every_route_spends_the_budget_of_its_class() {
    let redis = shared_redis();
    let limits = [
        ("AUTH", 11),
        ("SUBMIT", 31),
        ("LLM", 13),
        ("LINK", 7),
        ("GENERAL", 601),
    ];
    let vars: Vec<(String, String)> = limits
        .iter()
        .map(|(c, n)| (format!("RATE_LIMIT_{c}"), format!("{n}/60")))
        .collect();
    let mut extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    extra.push(("RATE_LIMIT_LOGIN_USERNAME", "1000/60"));
    let a = app(&redis, &extra).await;
    let specs = api::routes::registry().specs();
    assert!(specs.len() > 5, "the registry lists the routes");
    for spec in specs {
        let path = spec
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>();
        let url = a.url(&path.join("/"));
        let res = a
            .client
            .request(
                reqwest::Method::from_bytes(spec.method.as_str().as_bytes()).unwrap(),
                &url,
            )
            .header("x-forwarded-for", fresh_ip())
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        let want = limits
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(spec.class.as_str()))
            .unwrap()
            .1;
        assert_eq!(
            header(&res, "ratelimit-limit"),
            Some(want),
            "{} {} ({}) answered {} without its class's limit",
            spec.method,
            spec.path,
            spec.class,
            res.status()
        );
    }
}

#[tokio::test]
async fn redis_stopped_mid_test_serving_goes_on_degraded_then_recovers() {
    let mut redis = PrivateRedis::start().await;
    let a = app(
        &redis.url(),
        &[
            ("RATE_LIMIT_GENERAL", "50/60"),
            ("RATE_LIMIT_PROBE_MS", "200"),
        ],
    )
    .await;
    let ip = fresh_ip();
    assert_eq!(health_from(&a, &ip).await.status(), 200);
    // (The overall status is also "degraded" when the test has no sandbox; look at our line.)
    let r = ready(&a).await;
    assert_eq!(limiter_check(&r)["status"], "ok", "{r}");
    assert_eq!(
        redis_cli(
            &redis.url(),
            &["exists", &format!("campus:rl:general:ip:{ip}")]
        )
        .as_deref(),
        Some("1")
    );

    redis.stop();
    // Serving goes on, limited in memory: headers still there.
    for _ in 0..10 {
        let res = health_from(&a, &ip).await;
        let (status, limit, ..) = seen(&res);
        assert_eq!((status, limit), (200, Some(50)));
    }
    let r = ready(&a).await;
    assert_eq!(r["status"], "degraded", "{r}");
    let check = limiter_check(&r);
    assert_eq!(check["status"], "degraded");
    assert!(
        check["detail"].as_str().unwrap().contains("Redis"),
        "{check}"
    );
    assert!(
        !check["detail"].as_str().unwrap().contains("redis://"),
        "no URL in /ready: {check}"
    );
    // The in-process fallback still refuses past the limit.
    let ip2 = fresh_ip();
    let mut codes = Vec::new();
    for _ in 0..52 {
        codes.push(health_from(&a, &ip2).await.status().as_u16());
    }
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 50);

    redis.restart().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = ready(&a).await;
    assert_eq!(limiter_check(&r)["status"], "ok", "back to Redis: {r}");
    assert!(limiter_check(&r).get("detail").is_none(), "{r}");
    let ip3 = fresh_ip();
    assert_eq!(health_from(&a, &ip3).await.status(), 200);
    assert_eq!(
        redis_cli(
            &redis.url(),
            &["exists", &format!("campus:rl:general:ip:{ip3}")]
        )
        .as_deref(),
        Some("1"),
        "requests are counted in Redis again"
    );
}

#[tokio::test]
async fn a_dead_redis_at_start_still_serves_and_reports_degraded() {
    let dead = format!("redis://127.0.0.1:{}", spare_port());
    let a = app(&dead, &[("RATE_LIMIT_GENERAL", "3/60")]).await;
    let ip = fresh_ip();
    let mut codes = Vec::new();
    for _ in 0..4 {
        let res = health_from(&a, &ip).await;
        assert!(res.headers().contains_key("ratelimit-limit"));
        codes.push(res.status().as_u16());
    }
    assert_eq!(
        codes,
        [200, 200, 200, 429],
        "limits still hold, per instance"
    );
    let r = ready(&a).await;
    assert_eq!(r["status"], "degraded", "{r}");
    assert_eq!(limiter_check(&r)["status"], "degraded");
    assert!(!a.state.limiter.is_shared());
}

#[tokio::test]
async fn without_redis_url_limits_are_in_process_and_ready_says_so() {
    let a = TestApp::spawn_with(&[
        ("RATE_LIMIT_GENERAL", "2/60"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let ip = fresh_ip();
    let codes = [
        health_from(&a, &ip).await.status().as_u16(),
        health_from(&a, &ip).await.status().as_u16(),
        health_from(&a, &ip).await.status().as_u16(),
    ];
    assert_eq!(codes, [200, 200, 429]);
    let r = ready(&a).await;
    let check = limiter_check(&r);
    assert_eq!(check["status"], "ok");
    assert!(
        check["detail"].as_str().unwrap().contains("per instance"),
        "{check}"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_429_of_every_operation() {
    let a = TestApp::spawn().await;
    let doc: Value = a
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let specs = api::routes::registry().specs();
    for spec in specs {
        let op = &doc["paths"][&spec.path][spec.method.as_str().to_ascii_lowercase()];
        let too_many = &op["responses"]["429"];
        assert!(
            too_many["headers"]["Retry-After"].is_object(),
            "{} {}: {op}",
            spec.method,
            spec.path
        );
        assert!(too_many["headers"]["RateLimit-Remaining"].is_object());
        let var = format!("RATE_LIMIT_{}", spec.class.as_str().to_ascii_uppercase());
        assert!(
            op["description"].as_str().unwrap().contains(&var),
            "{} {}",
            spec.method,
            spec.path
        );
    }
}
