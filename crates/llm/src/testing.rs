//! A fake OpenAI-compatible server on 127.0.0.1 for tests (feature `testing`): answers
//! `POST .../chat/completions` from a script and records every request it got.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer. The script is played in order; its last entry repeats.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this text as the assistant's message.
    Answer(String),
    /// This status with a JSON error body.
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// Waits this long, then 200 with an empty choice list.
    Slow(Duration),
    /// 200 with a chat completion whose answer is this many bytes long.
    Huge(usize),
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

pub struct FakeLlm {
    /// The API root to configure (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Vec<Reply>>>,
}

impl FakeLlm {
    /// Starts the fake on the current actix/tokio runtime.
    pub async fn start(script: Vec<Reply>) -> std::io::Result<Self> {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script = Arc::new(Mutex::new(script));
        let (s, sc) = (seen.clone(), script.clone());
        let server = HttpServer::new(move || {
            let (seen, script) = (s.clone(), sc.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (seen, script) = (seen.clone(), script.clone());
                async move { answer(&req, &body, &seen, &script).await }
            }))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))?;
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/v1"),
            seen,
            script,
        })
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces what the fake answers from now on.
    pub fn set_script(&self, script: Vec<Reply>) {
        *self.script.lock().unwrap_or_else(|p| p.into_inner()) = script;
    }
}

async fn answer(
    req: &HttpRequest,
    body: &[u8],
    seen: &Mutex<Vec<Seen>>,
    script: &Mutex<Vec<Reply>>,
) -> HttpResponse {
    seen.lock().unwrap_or_else(|p| p.into_inner()).push(Seen {
        path: req.path().to_string(),
        authorization: req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    });
    let reply = {
        let mut script = script.lock().unwrap_or_else(|p| p.into_inner());
        match script.len() {
            0 => Reply::Status(500),
            1 => script[0].clone(),
            _ => script.remove(0),
        }
    };
    match reply {
        Reply::Answer(text) => HttpResponse::Ok().json(json!({
            "id": "chatcmpl-fake", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
        })),
        Reply::Status(code) => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(code)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
        )
        .json(json!({"error": {"message": "scripted failure"}})),
        Reply::Garbage => HttpResponse::Ok().body("<html>not json</html>"),
        Reply::Slow(d) => {
            tokio::time::sleep(d).await;
            HttpResponse::Ok().json(json!({"choices": []}))
        }
        Reply::Huge(n) => HttpResponse::Ok().json(json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "x".repeat(n)}}]
        })),
    }
}
