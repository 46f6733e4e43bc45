//! What the limiter logs when Redis goes away and comes back: one line each way (not one per
//! request), and never the Redis password, a token, or a budget key. Its own test binary,
//! because it installs the process-wide log subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use std::{
    io::Write,
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn count(&self, needle: &str) -> usize {
        self.text().lines().filter(|l| l.contains(needle)).count()
    }
}

const REDIS_PASSWORD: &str = "rl-pw-83c1f0a9d2";

fn redis_server(port: u16) -> Child {
    Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run redis-server ({e}); install redis-server"))
}

async fn wait_for_redis(port: u16) {
    for _ in 0..100 {
        let out = Command::new("redis-cli")
            .args([
                "-p",
                &port.to_string(),
                "-a",
                REDIS_PASSWORD,
                "--no-auth-warning",
                "ping",
            ])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).trim() == "PONG" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("private redis-server on port {port} did not start");
}

#[tokio::test]
async fn redis_loss_and_return_are_each_logged_once_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = redis_server(port);
    wait_for_redis(port).await;
    let url = format!("redis://:{REDIS_PASSWORD}@127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[
        ("REDIS_URL", url.as_str()),
        ("RATE_LIMIT_GENERAL", "1000/60"),
        ("RATE_LIMIT_PROBE_MS", "200"),
    ])
    .await;
    let user = app.student().await;
    let get = || async {
        let res = app
            .get("/me")
            .bearer_auth(&user.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("ratelimit-remaining"));
    };
    get().await;
    assert_eq!(captured.count("rate limits are shared through Redis"), 1);

    server.kill().unwrap();
    server.wait().unwrap();
    for _ in 0..30 {
        get().await;
    }
    // Probes while still down fail quietly.
    tokio::time::sleep(Duration::from_millis(450)).await;
    for _ in 0..5 {
        get().await;
    }
    assert_eq!(
        captured.count("rate limiter degraded"),
        1,
        "once, not per request"
    );

    let mut server = redis_server(port);
    wait_for_redis(port).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    for _ in 0..10 {
        get().await;
    }
    assert_eq!(captured.count("rate limiter recovered"), 1);
    assert!(app.state.limiter.is_shared());

    let logs = captured.text();
    assert!(
        !logs.contains(REDIS_PASSWORD),
        "the Redis password leaked into the logs"
    );
    assert!(
        !logs.contains(&user.access_token),
        "a token leaked into the logs"
    );
    assert!(
        !logs.contains("campus:rl:"),
        "a budget key leaked into the logs"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
