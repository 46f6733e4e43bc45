//! The adapter against a fake OpenAI-compatible server on 127.0.0.1: the request it sends
//! (endpoint, model, messages, bearer key), the answer it reads, and how each failure maps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::llm::{ChatMessage, LanguageModel, LlmError};
use llm::testing::{FakeLlm, Reply};
use llm::{LlmConfig, OpenAiCompatible};
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

async fn fake(replies: Vec<Reply>) -> FakeLlm {
    FakeLlm::start(replies).await.unwrap()
}

fn paths(f: &FakeLlm) -> Vec<String> {
    f.requests().into_iter().map(|r| r.path).collect()
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
    let f = fake(vec![Reply::Answer("Looks good.".into())]).await;
    let m = model(&f.url, Some("sk-test-key"), Duration::from_secs(5));
    assert_eq!(m.chat(&messages(), 300).await.unwrap(), "Looks good.");
    assert_eq!(m.name(), "llm:tutor-7b");
    let seen = f.requests();
    assert_eq!(paths(&f), ["/v1/chat/completions"]);
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test-key"));
    let body = &seen[0].body;
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
    let f = fake(vec![Reply::Answer("ok".into())]).await;
    model(&f.url, None, Duration::from_secs(5))
        .chat(&messages(), 10)
        .await
        .unwrap();
    assert_eq!(f.requests()[0].authorization, None);
}

#[actix_web::test]
async fn an_unavailable_provider_is_retried_once() {
    let f = fake(vec![Reply::Status(503), Reply::Answer("second try".into())]).await;
    let m = model(&f.url, None, Duration::from_secs(5));
    assert_eq!(m.chat(&messages(), 10).await.unwrap(), "second try");
    assert_eq!(paths(&f).len(), 2);

    let f = fake(vec![Reply::Status(500)]).await;
    let m = model(&f.url, None, Duration::from_secs(5));
    assert!(matches!(
        m.chat(&messages(), 10).await,
        Err(LlmError::Unavailable(_))
    ));
    assert_eq!(paths(&f).len(), 2, "one retry, not more");
}

/// A scripted reply, which error it must give, and how many requests it takes.
type FailureCase = (Reply, fn(&LlmError) -> bool, usize);

#[actix_web::test]
async fn each_failure_maps_to_its_error() {
    let cases: Vec<FailureCase> = vec![
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
        assert_eq!(paths(&f).len(), requests, "{err:?}");
    }
}

#[actix_web::test]
async fn a_slow_provider_times_out_as_unavailable_within_the_timeout_retry_included() {
    let f = fake(vec![Reply::Slow(Duration::from_secs(10))]).await;
    let started = std::time::Instant::now();
    let err = model(&f.url, None, Duration::from_secs(1))
        .chat(&messages(), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Unavailable(_)), "{err:?}");
    // A retry after the timeout would take at least 2.5 s; the timeout bounds the whole call.
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "the timeout bounds the call: {:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn a_huge_answer_is_malformed_and_never_read_whole() {
    let f = fake(vec![Reply::Huge(5 << 20)]).await;
    let err = model(&f.url, None, Duration::from_secs(10))
        .chat(&messages(), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LlmError::Malformed(m) if m.contains("larger than")),
        "{err:?}"
    );
    // Within the cap, a long answer is read.
    let f = fake(vec![Reply::Huge(100_000)]).await;
    let answer = model(&f.url, None, Duration::from_secs(10))
        .chat(&messages(), 10)
        .await
        .unwrap();
    assert_eq!(answer.len(), 100_000);
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
