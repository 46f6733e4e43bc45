//! A fake Telegram Bot API server on 127.0.0.1 for tests (feature `testing`).
//!
//! It speaks the part of the Bot API the bot uses: `getMe`, `getWebhookInfo`, `deleteWebhook`,
//! `setMyCommands`, `getUpdates` (long polling over a queue the test fills with
//! [`FakeBotApi::send_text`]) and `sendMessage` (recorded, read with [`FakeBotApi::replies`]).
//! A request with another token gets Telegram's 401 answer.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BOT_USERNAME: &str = "campus_test_bot";
const BOT_ID: i64 = 7_000_000_001;

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub chat_id: i64,
    pub text: String,
}

#[derive(Default)]
struct State {
    next_update: i64,
    next_message: i64,
    /// Updates not yet confirmed by an offset.
    pending: Vec<Value>,
    replies: Vec<Reply>,
    /// Every method called, in order, lower-cased.
    calls: Vec<String>,
    /// Raw request paths, to check what the token looked like on the wire.
    paths: Vec<String>,
    /// Methods (lower-cased) that never answer, like a Bot API that hangs.
    hanging: Vec<String>,
    /// `sendMessage` calls still to refuse with flood control (429, retry after 1 s).
    floods: usize,
}

pub struct FakeBotApi {
    /// The API root to configure (`http://127.0.0.1:PORT/`).
    pub url: String,
    token: String,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeBotApi {
    /// Starts the fake on the current tokio runtime; it accepts only `token`.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let state: Arc<Mutex<State>> = Arc::default();
        let (st, tok) = (state.clone(), token.to_string());
        let server = HttpServer::new(move || {
            let (state, token) = (st.clone(), tok.clone());
            App::new()
                .app_data(web::PayloadConfig::new(1 << 20))
                .default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                    let (state, token) = (state.clone(), token.clone());
                    async move { answer(&req, &body, &state, &token).await }
                }))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .bind(("127.0.0.1", 0))?;
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/"),
            token: token.to_string(),
            state,
            handle,
        })
    }

    /// Queues a text message from Telegram user `from` (also its private chat's id), or from
    /// `from` in the group chat `group` when given.
    pub fn send_text(&self, from: i64, group: Option<i64>, text: &str) {
        let mut s = lock(&self.state);
        s.next_update += 1;
        s.next_message += 1;
        let chat = match group {
            None => json!({"id": from, "type": "private", "first_name": "Student"}),
            Some(id) => json!({"id": id, "type": "group", "title": "Study group"}),
        };
        let update = json!({
            "update_id": s.next_update,
            "message": {
                "message_id": s.next_message,
                "date": unix_now(),
                "chat": chat,
                "from": {"id": from, "is_bot": false, "first_name": "Student"},
                "text": text,
            }
        });
        s.pending.push(update);
    }

    /// Queues any update body (`{"message": {...}}` and the like, without `update_id`), for
    /// updates the bot cannot read.
    pub fn send_raw(&self, mut update: Value) {
        let mut s = lock(&self.state);
        s.next_update += 1;
        update["update_id"] = json!(s.next_update);
        s.pending.push(update);
    }

    /// Makes `method` (e.g. `getUpdates`) hang from now on instead of answering.
    pub fn hang(&self, method: &str) {
        lock(&self.state).hanging.push(method.to_ascii_lowercase());
    }

    /// Refuses the next `n` `sendMessage` calls with Telegram's flood control answer (429,
    /// `retry_after` 1 s).
    pub fn flood(&self, n: usize) {
        lock(&self.state).floods = n;
    }

    /// Every message the bot has sent so far.
    pub fn replies(&self) -> Vec<Reply> {
        lock(&self.state).replies.clone()
    }

    /// Waits until the bot has sent at least `n` messages (or `timeout` passes) and returns them.
    pub async fn wait_for_replies(&self, n: usize, timeout: Duration) -> Vec<Reply> {
        let end = Instant::now() + timeout;
        loop {
            let replies = self.replies();
            if replies.len() >= n || Instant::now() >= end {
                return replies;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The methods called so far, lower-cased (`getme`, `getupdates`, ...).
    pub fn calls(&self) -> Vec<String> {
        lock(&self.state).calls.clone()
    }

    /// The request paths received so far.
    pub fn paths(&self) -> Vec<String> {
        lock(&self.state).paths.clone()
    }

    /// The token this fake accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn ok(result: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true, "result": result}))
}

async fn answer(req: &HttpRequest, body: &[u8], state: &Mutex<State>, token: &str) -> HttpResponse {
    let path = req.path().to_string();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let sent_token = segments.next().and_then(|s| s.strip_prefix("bot"));
    let method = segments.next().unwrap_or_default().to_ascii_lowercase();
    let hangs = {
        let mut s = lock(state);
        s.paths.push(path.clone());
        s.calls.push(method.clone());
        s.hanging.contains(&method)
    };
    if hangs {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if sent_token != Some(token) {
        return HttpResponse::Unauthorized()
            .json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}));
    }
    let params: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match method.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Campus", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false
        })),
        "getwebhookinfo" => ok(json!({
            "url": "", "has_custom_certificate": false, "pending_update_count": 0
        })),
        "deletewebhook" | "setmycommands" => ok(json!(true)),
        "getupdates" => {
            let offset = params["offset"].as_i64().unwrap_or(0);
            let wait = params["timeout"].as_u64().unwrap_or(0).min(1);
            let end = Instant::now() + Duration::from_secs(wait);
            loop {
                let ready: Vec<Value> = {
                    let mut s = lock(state);
                    s.pending
                        .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                    s.pending.clone()
                };
                if !ready.is_empty() || Instant::now() >= end {
                    return ok(Value::Array(ready));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        "sendmessage" => {
            let chat_id = params["chat_id"].as_i64().unwrap_or(0);
            let text = params["text"].as_str().unwrap_or_default().to_string();
            let mut s = lock(state);
            if s.floods > 0 {
                s.floods -= 1;
                return HttpResponse::TooManyRequests().json(json!({
                    "ok": false, "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1}
                }));
            }
            s.next_message += 1;
            s.replies.push(Reply {
                chat_id,
                text: text.clone(),
            });
            ok(json!({
                "message_id": s.next_message,
                "date": unix_now(),
                "chat": {"id": chat_id, "type": "private", "first_name": "Student"},
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Campus", "username": BOT_USERNAME},
                "text": text,
            }))
        }
        _ => HttpResponse::NotFound().json(
            json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}),
        ),
    }
}
