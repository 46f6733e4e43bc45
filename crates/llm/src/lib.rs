//! [`OpenAiCompatible`]: the [`LanguageModel`] port over any OpenAI-compatible
//! chat-completions API (a hosted provider, vLLM, Ollama, llama.cpp's server).
//!
//! One `POST {base_url}/chat/completions` per question, with a timeout; one retry after a
//! short pause when the provider is unavailable or rate-limiting. The API key is a secret:
//! it is sent as a bearer token and never logged or shown by `Debug`. Prompts and answers
//! (which hold student code) are never logged either; only sizes, status codes and timings.

#[cfg(feature = "testing")]
pub mod testing;

use domain::llm::{ChatMessage, LanguageModel, LlmError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Where and how to reach the model.
#[derive(Clone)]
pub struct LlmConfig {
    /// The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// `None` for servers that need no key (a local vLLM or Ollama).
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Per request, connection included.
    pub timeout: Duration,
    /// Sampling temperature sent with every request.
    pub temperature: f32,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmSetupError {
    #[error("the base URL must start with http:// or https:// (got {0:?})")]
    BaseUrl(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

pub struct OpenAiCompatible {
    client: reqwest::Client,
    endpoint: String,
    config: LlmConfig,
}

/// Pause before the one retry.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// Largest answer body read from the provider (a chat completion of a few hundred tokens is a
/// few KiB).
const MAX_ANSWER_BYTES: usize = 1 << 20;

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    max_tokens: u32,
    temperature: f32,
    stream: bool,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
}

impl OpenAiCompatible {
    pub fn new(config: LlmConfig) -> Result<Self, LlmSetupError> {
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmSetupError::BaseUrl(config.base_url.clone()));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| LlmSetupError::Client(e.to_string()))?;
        Ok(Self {
            client,
            endpoint: format!("{base}/chat/completions"),
            config,
        })
    }

    async fn once(&self, messages: &[ChatMessage], max_tokens: u32) -> Result<String, LlmError> {
        let body = ChatRequest {
            model: &self.config.model,
            messages,
            max_tokens,
            temperature: self.config.temperature,
            stream: false,
        };
        let mut req = self.client.post(&self.endpoint).json(&body);
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key.expose_secret());
        }
        let res = req.send().await.map_err(|e| {
            // reqwest's error text holds the URL but never the headers (so never the key).
            LlmError::Unavailable(if e.is_timeout() {
                format!("no answer within {} s", self.config.timeout.as_secs())
            } else {
                e.without_url().to_string()
            })
        })?;
        let status = res.status();
        if status.as_u16() == 429 {
            return Err(LlmError::RateLimited);
        }
        if status.is_server_error() {
            return Err(LlmError::Unavailable(format!(
                "the provider answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(LlmError::Refused(format!("the provider answered {status}")));
        }
        // Read at most MAX_ANSWER_BYTES: a provider (or anything at that address) answering
        // with a huge body must not take the server's memory.
        let mut res = res;
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| {
            LlmError::Unavailable(format!("the answer broke off: {}", e.without_url()))
        })? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(LlmError::Malformed(format!(
                    "the answer is larger than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let parsed: ChatResponse = serde_json::from_slice(&body).map_err(|e| {
            LlmError::Malformed(format!(
                "not a chat completion (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::Malformed("the answer has no message content".into()))
    }
}

#[async_trait::async_trait]
impl LanguageModel for OpenAiCompatible {
    fn name(&self) -> String {
        format!("llm:{}", self.config.model)
    }

    async fn chat(&self, messages: &[ChatMessage], max_tokens: u32) -> Result<String, LlmError> {
        let started = Instant::now();
        let prompt_chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        // LLM_TIMEOUT_SECS bounds the whole call, retry included: one retry only when the
        // first failure left time for it.
        let deadline = started + self.config.timeout;
        let mut outcome = self.once(messages, max_tokens).await;
        if matches!(
            outcome,
            Err(LlmError::Unavailable(_) | LlmError::RateLimited)
        ) && Instant::now() + RETRY_AFTER < deadline
        {
            tokio::time::sleep(RETRY_AFTER).await;
            outcome = tokio::time::timeout_at(
                tokio::time::Instant::from_std(deadline),
                self.once(messages, max_tokens),
            )
            .await
            .unwrap_or_else(|_| {
                Err(LlmError::Unavailable(format!(
                    "no answer within {} s",
                    self.config.timeout.as_secs_f32()
                )))
            });
        }
        match &outcome {
            Ok(answer) => tracing::info!(
                model = %self.config.model,
                prompt_chars,
                answer_chars = answer.chars().count(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "language model answered"
            ),
            Err(e) => tracing::warn!(
                model = %self.config.model,
                error = %e,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "language model gave no answer"
            ),
        }
        outcome
    }
}
