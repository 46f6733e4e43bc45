//! The adapter against a fake OpenAI-compatible server on 127.0.0.1: the request it sends
//! (endpoint, model, messages, bearer key), the answer it reads, and how each failure maps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use domain::llm::{ChatMessage, LanguageModel, LlmError};
use llm::{LlmConfig, OpenAiCompatible};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake answers, in order (the last one repeats).
#[derive(Clone)]
enum Reply {
    Answer(&'static str),
    Status(u16),
    Garbage,
    Slow(Duration),
}

#[derive(Default)]
struct Seen {
    bodies: Vec<Value>,
    auth: Vec<Option<String>>,
    paths: Vec<String>,
}

struct Fake {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

async fn fake(replies: Vec<Reply>) -> Fake {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let script = Arc::new(Mutex::new(replies));
    let (s, sc) = (seen.clone(), script.clone());
    let server = HttpServer::new(move || {
        let (seen, script) = (s.clone(), sc.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (seen, script) = (seen.clone(), script.clone());
            async move {
                {
                    let mut seen = seen.lock().unwrap();
                    seen.paths.push(req.path().to_string());
                    seen.auth.push(
                        req.headers()
                            .get("authorization")
                            .map(|v| v.to_str().unwrap().to_string()),
                    );
                    seen.bodies
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                }
                let reply = {
                    let mut script = script.lock().unwrap();
                    if script.len() > 1 {
                        script.remove(0)
                    } else {
                        script[0].clone()
                    }
                };
                match reply {
                    Reply::Answer(text) => HttpResponse::Ok().json(json!({
                        "id": "chatcmpl-1", "object": "chat.completion",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
                    })),
                    Reply::Status(code) => HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(code).unwrap(),
                    )
                    .json(json!({"error": {"message": "scripted"}})),
                    Reply::Garbage => HttpResponse::Ok().body("<html>not json</html>"),
                    Reply::Slow(d) => {
                        tokio::time::sleep(d).await;
                        HttpResponse::Ok().json(json!({"choices": []}))
                    }
                }
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    Fake {
        url: format!("http://127.0.0.1:{port}/v1"),
        seen,
    }
}

fn model(url: &str, key: Option<&str>, timeout: Duration) -> OpenAiCompatible {
    OpenAiCompatible::new(LlmConfig {
        base_url: format!("{url}/"),
        api_key: key.map(|k| SecretString::from(k.to_string())),
        model: "tutor-7b".into(),
        timeout,
        temperature: 0.2,
    })
    .unwrap()
}

fn messages() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("be brief"),
        ChatMessage::user("print(1)"),
    ]
}

#[actix_web::test]
async fn a_question_is_one_chat_completion_request_and_the_answer_is_its_content() {
    let f = fake(vec![Reply::Answer("Looks good.")]).await;
    let m = model(&f.url, Some("sk-test-key"), Duration::from_secs(5));
    assert_eq!(m.chat(&messages(), 300).await.unwrap(), "Looks good.");
    assert_eq!(m.name(), "llm:tutor-7b");
    let seen = f.seen.lock().unwrap();
    assert_eq!(seen.paths, ["/v1/chat/completions"]);
    assert_eq!(seen.auth[0].as_deref(), Some("Bearer sk-test-key"));
    let body = &seen.bodies[0];
    assert_eq!(body["model"], "tutor-7b");
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["stream"], false);
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "print(1)"}])
    );
}

#[actix_web::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let f = fake(vec![Reply::Answer("ok")]).await;
    model(&f.url, None, Duration::from_secs(5))
        .chat(&messages(), 10)
        .await
        .unwrap();
    assert_eq!(f.seen.lock().unwrap().auth, [None]);
}

#[actix_web::test]
async fn an_unavailable_provider_is_retried_once() {
    let f = fake(vec![Reply::Status(503), Reply::Answer("second try")]).await;
    let m = model(&f.url, None, Duration::from_secs(5));
    assert_eq!(m.chat(&messages(), 10).await.unwrap(), "second try");
    assert_eq!(f.seen.lock().unwrap().paths.len(), 2);

    let f = fake(vec![Reply::Status(500)]).await;
    let m = model(&f.url, None, Duration::from_secs(5));
    assert!(matches!(
        m.chat(&messages(), 10).await,
        Err(LlmError::Unavailable(_))
    ));
    assert_eq!(f.seen.lock().unwrap().paths.len(), 2, "one retry, not more");
}

#[actix_web::test]
async fn each_failure_maps_to_its_error() {
    let cases: Vec<(Reply, fn(&LlmError) -> bool, usize)> = vec![
        (
            Reply::Status(429),
            |e| matches!(e, LlmError::RateLimited),
            2,
        ),
        (Reply::Status(401), |e| matches!(e, LlmError::Refused(_)), 1),
        (Reply::Status(400), |e| matches!(e, LlmError::Refused(_)), 1),
        (Reply::Garbage, |e| matches!(e, LlmError::Malformed(_)), 1),
    ];
    for (reply, expected, requests) in cases {
        let f = fake(vec![reply]).await;
        let err = model(&f.url, Some("sk-test-key"), Duration::from_secs(5))
            .chat(&messages(), 10)
            .await
            .unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert!(!err.to_string().contains("sk-test-key"), "{err}");
        assert_eq!(f.seen.lock().unwrap().paths.len(), requests, "{err:?}");
    }
}

#[actix_web::test]
async fn a_slow_provider_times_out_as_unavailable() {
    let f = fake(vec![Reply::Slow(Duration::from_secs(3))]).await;
    let started = std::time::Instant::now();
    let err = model(&f.url, None, Duration::from_millis(300))
        .chat(&messages(), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout cut the wait"
    );
}

#[actix_web::test]
async fn nothing_listening_is_unavailable_and_an_empty_choice_list_is_malformed() {
    // A port that was free a moment ago: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = model(
        &format!("http://127.0.0.1:{port}/v1"),
        None,
        Duration::from_secs(2),
    )
    .chat(&messages(), 10)
    .await
    .unwrap_err();
    assert!(matches!(err, LlmError::Unavailable(_)), "{err:?}");

    let f = fake(vec![Reply::Slow(Duration::ZERO)]).await;
    let err = model(&f.url, None, Duration::from_secs(2))
        .chat(&messages(), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Malformed(_)), "{err:?}");
}

#[test]
fn the_key_never_shows_in_debug_output_and_a_bad_base_url_is_refused() {
    let config = LlmConfig {
        base_url: "ftp://x".into(),
        api_key: Some(SecretString::from("sk-very-secret".to_string())),
        model: "m".into(),
        timeout: Duration::from_secs(1),
        temperature: 0.0,
    };
    assert!(!format!("{config:?}").contains("sk-very-secret"));
    assert!(OpenAiCompatible::new(config).is_err());
}
