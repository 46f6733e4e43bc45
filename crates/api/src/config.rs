//! The one typed configuration of a Campus process.
//!
//! `main` loads it once ([`Config::load`]: the process environment, then an optional `.env`
//! in the working directory that never overrides a real variable) and passes it down. Nothing
//! else in Campus reads the environment. Every bad value is a one-line error naming its
//! variable; in production a missing, short or placeholder secret stops the start.

use ipnet::IpNet;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::{collections::HashMap, net::SocketAddr, str::FromStr, time::Duration};

/// Secrets shorter than this are refused in production.
pub const MIN_SECRET_BYTES: usize = 32;

/// Substrings that mark a value copied from documentation rather than generated.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "change-me",
    "changeme",
    "change_me",
    "your-",
    "your_",
    "secret",
    "example",
    "placeholder",
    "xxxx",
];

/// The values `.env.example` ships with; refused in production even if they pass the other checks.
pub const EXAMPLE_JWT_SECRET: &str = "change-me-to-64-random-hex-characters";
pub const EXAMPLE_BACKEND_API_KEY: &str = "change-me-to-another-64-random-hex-characters";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the grader's containers come from and how many run at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    pub image: String,
    /// Containers running at once; `None` leaves the sandbox's default (the CPU count).
    pub max_concurrent: Option<usize>,
    /// Submissions allowed to wait for a free runner before the grader answers "busy";
    /// `None` leaves the sandbox's default.
    pub queue: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: Environment,
    pub addr: SocketAddr,
    /// `sqlite://PATH` or `postgres://...`; `persistence` parses it.
    pub database_url: SecretString,
    pub database_pool_size: u32,
    pub jwt_secret: SecretString,
    pub backend_api_key: SecretString,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How long a route open to any signed-in account may trust an account read by an earlier
    /// request (`ACCOUNT_CACHE_SECS`, 0 = never). Teacher and admin routes always re-read it.
    pub account_cache_ttl: Duration,
    /// Exact origins allowed by CORS; empty means no cross-origin access.
    pub cors_origins: Vec<String>,
    pub redis_url: Option<SecretString>,
    /// Peers whose `X-Forwarded-For` is believed when finding a client's address.
    pub trusted_proxies: Vec<IpNet>,
    pub sandbox: SandboxSettings,
    pub max_body_bytes: usize,
    /// Code submissions one account may have queued or running at once (`SUBMIT_MAX_IN_FLIGHT`);
    /// past it a submission gets 429 and nothing is stored.
    pub submit_max_in_flight: u32,
    pub log_format: LogFormat,
    /// A `tracing_subscriber::EnvFilter` directive (`RUST_LOG`); `None` lets each command pick
    /// its default (`info` for `serve`, `warn` for the others).
    pub log_filter: Option<String>,
    /// The language model (`LLM_*`); `None` when `LLM_BASE_URL` is unset: no feedback, and
    /// task drafts answer 503.
    pub llm: Option<LlmSettings>,
    /// The Telegram bot (`TELEGRAM_*`): `campus bot` needs it; `None` when
    /// `TELEGRAM_BOT_TOKEN` is unset.
    pub telegram: Option<telegram::BotSettings>,
    /// The bot's username (`TELEGRAM_BOT_USERNAME`), for `t.me` deep links in link codes.
    pub telegram_bot_username: Option<String>,
    /// Budgets per route class and the limiter's Redis settings (`RATE_LIMIT_*`).
    pub rate_limit: crate::rate_limit::RateLimitConfig,
    /// Things worth a warning once logging is up (e.g. a generated development secret).
    pub warnings: Vec<String>,
}

/// Where the OpenAI-compatible chat-completions API is, and what Campus asks of it.
#[derive(Clone)]
pub struct LlmSettings {
    pub base_url: String,
    /// Optional: local servers (vLLM, Ollama) need none.
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout: Duration,
    /// Write feedback on every graded code attempt (`LLM_FEEDBACK`, default on).
    pub feedback: bool,
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("feedback", &self.feedback)
            .finish()
    }
}

fn llm_settings(
    var: &impl Fn(&str) -> Option<String>,
    prod: bool,
) -> Result<Option<LlmSettings>, ConfigError> {
    let Some(base_url) = var("LLM_BASE_URL") else {
        for name in ["LLM_MODEL", "LLM_API_KEY"] {
            if var(name).is_some() {
                return Err(invalid(
                    "LLM_BASE_URL",
                    format!("is required when {name} is set"),
                ));
            }
        }
        return Ok(None);
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(invalid(
            "LLM_BASE_URL",
            "must be an http:// or https:// URL (the API root, e.g. http://127.0.0.1:11434/v1)",
        ));
    }
    let model = var("LLM_MODEL")
        .ok_or_else(|| invalid("LLM_MODEL", "is required when LLM_BASE_URL is set"))?;
    let timeout: u64 = parse(var, "LLM_TIMEOUT_SECS", 30)?;
    if !(1..=300).contains(&timeout) {
        return Err(invalid("LLM_TIMEOUT_SECS", "must be between 1 and 300"));
    }
    let feedback = match var("LLM_FEEDBACK").as_deref() {
        None | Some("on") => true,
        Some("off") => false,
        Some(_) => return Err(invalid("LLM_FEEDBACK", "must be on or off")),
    };
    let api_key = var("LLM_API_KEY");
    if let Some(key) = &api_key {
        // Providers decide a key's length; a value copied from the docs is still refused.
        let lower = key.to_ascii_lowercase();
        if prod && PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m)) {
            return Err(invalid(
                "LLM_API_KEY",
                "looks like a placeholder; set the key your provider issued, or unset it",
            ));
        }
    }
    Ok(Some(LlmSettings {
        base_url,
        api_key: api_key.map(SecretString::from),
        model,
        timeout: Duration::from_secs(timeout),
        feedback,
    }))
}

fn telegram_settings(
    var: &impl Fn(&str) -> Option<String>,
    prod: bool,
) -> Result<Option<telegram::BotSettings>, ConfigError> {
    let Some(token) = var("TELEGRAM_BOT_TOKEN") else {
        return Ok(None);
    };
    // BotFather's tokens are `<bot id>:<secret>`; anything else is a copy-paste accident.
    let well_formed = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && secret.len() >= 30
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !well_formed {
        return Err(invalid(
            "TELEGRAM_BOT_TOKEN",
            "must be the token BotFather issued (<digits>:<secret of 30+ letters, digits, _ or ->)",
        ));
    }
    let lower = token.to_ascii_lowercase();
    if prod && PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m)) {
        return Err(invalid(
            "TELEGRAM_BOT_TOKEN",
            "looks like a placeholder; set the token BotFather issued",
        ));
    }
    let raw_url = var("TELEGRAM_API_URL").unwrap_or_else(|| "https://api.telegram.org".into());
    let api_url = url::Url::parse(&raw_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            invalid(
                "TELEGRAM_API_URL",
                "must be an http:// or https:// URL (default https://api.telegram.org)",
            )
        })?;
    let poll: u64 = parse(var, "TELEGRAM_POLL_TIMEOUT_SECS", 25)?;
    if !(1..=50).contains(&poll) {
        return Err(invalid(
            "TELEGRAM_POLL_TIMEOUT_SECS",
            "must be between 1 and 50",
        ));
    }
    Ok(Some(telegram::BotSettings {
        token: SecretString::from(token),
        api_url,
        poll_timeout: Duration::from_secs(poll),
    }))
}

fn telegram_bot_username(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let Some(name) = var("TELEGRAM_BOT_USERNAME") else {
        return Ok(None);
    };
    let name = name.strip_prefix('@').unwrap_or(&name).to_string();
    let valid = (5..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(invalid(
            "TELEGRAM_BOT_USERNAME",
            "must be the bot's username: 5 to 32 letters, digits or _",
        ));
    }
    Ok(Some(name))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var}: {message}")]
    Invalid { var: &'static str, message: String },
    #[error("cannot read .env: {0}")]
    DotEnv(String),
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        message: message.into(),
    }
}

impl Config {
    /// The process environment, then `.env` in the working directory (if any) for variables
    /// the environment does not set.
    pub fn load() -> Result<Self, ConfigError> {
        let mut dotenv: HashMap<String, String> = HashMap::new();
        match dotenvy::from_filename_iter(".env") {
            Ok(iter) => {
                for item in iter {
                    let (k, v) = item.map_err(|e| ConfigError::DotEnv(e.to_string()))?;
                    dotenv.insert(k, v);
                }
            }
            Err(e) if e.not_found() => {}
            Err(e) => return Err(ConfigError::DotEnv(e.to_string())),
        }
        Self::from_lookup(|name| {
            std::env::var(name)
                .ok()
                .or_else(|| dotenv.get(name).cloned())
        })
    }

    /// Builds the configuration from any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // An empty value counts as unset, like most twelve-factor apps treat it.
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut warnings = Vec::new();

        let env = match var("CAMPUS_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(invalid(
                    "CAMPUS_ENV",
                    format!("unknown value {other:?}; expected development or production"),
                ))
            }
        };
        let prod = env == Environment::Production;

        let jwt_secret = secret(&var, "JWT_SECRET", EXAMPLE_JWT_SECRET, prod, &mut warnings)?;
        let backend_api_key = secret(
            &var,
            "BACKEND_API_KEY",
            EXAMPLE_BACKEND_API_KEY,
            prod,
            &mut warnings,
        )?;
        if prod && jwt_secret.expose_secret() == backend_api_key.expose_secret() {
            return Err(invalid("BACKEND_API_KEY", "must differ from JWT_SECRET"));
        }

        let redis_url = var("REDIS_URL").map(SecretString::from);
        if prod && redis_url.is_none() {
            return Err(invalid(
                "REDIS_URL",
                "is required in production (rate limits are shared through Redis)",
            ));
        }

        let access_secs: u64 = parse(&var, "ACCESS_TOKEN_TTL_SECS", 900)?;
        if !(30..=86_400).contains(&access_secs) {
            return Err(invalid(
                "ACCESS_TOKEN_TTL_SECS",
                "must be between 30 and 86400",
            ));
        }
        let refresh_days: u64 = parse(&var, "REFRESH_TOKEN_TTL_DAYS", 30)?;
        if !(1..=365).contains(&refresh_days) {
            return Err(invalid(
                "REFRESH_TOKEN_TTL_DAYS",
                "must be between 1 and 365",
            ));
        }
        let account_cache_secs: u64 = parse(&var, "ACCOUNT_CACHE_SECS", 2)?;
        if account_cache_secs > 60 {
            return Err(invalid("ACCOUNT_CACHE_SECS", "must be between 0 and 60"));
        }
        let pool: u32 = parse(&var, "DATABASE_POOL_SIZE", 10)?;
        if !(1..=512).contains(&pool) {
            return Err(invalid("DATABASE_POOL_SIZE", "must be between 1 and 512"));
        }
        let max_body_bytes: usize = parse(&var, "MAX_BODY_BYTES", 256 * 1024)?;
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            return Err(invalid(
                "MAX_BODY_BYTES",
                "must be between 1024 and 67108864",
            ));
        }
        let max_concurrent: Option<usize> = optional(&var, "SANDBOX_MAX_CONCURRENT")?;
        if max_concurrent == Some(0) {
            return Err(invalid("SANDBOX_MAX_CONCURRENT", "must be at least 1"));
        }
        let submit_max_in_flight: u32 = parse(&var, "SUBMIT_MAX_IN_FLIGHT", 2)?;
        if !(1..=1000).contains(&submit_max_in_flight) {
            return Err(invalid(
                "SUBMIT_MAX_IN_FLIGHT",
                "must be between 1 and 1000",
            ));
        }

        Ok(Self {
            env,
            addr: parse(
                &var,
                "CAMPUS_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            database_url: SecretString::from(
                var("DATABASE_URL").unwrap_or_else(|| "sqlite://campus.db".into()),
            ),
            database_pool_size: pool,
            jwt_secret,
            backend_api_key,
            access_token_ttl: Duration::from_secs(access_secs),
            refresh_token_ttl: Duration::from_secs(refresh_days * 86_400),
            account_cache_ttl: Duration::from_secs(account_cache_secs),
            cors_origins: cors_origins(var("CORS_ORIGINS"))?,
            redis_url,
            trusted_proxies: list(&var, "TRUSTED_PROXIES", |s| {
                IpNet::from_str(s).or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
            })?,
            sandbox: SandboxSettings {
                image: var("SANDBOX_IMAGE").unwrap_or_else(|| "campus-sandbox:latest".into()),
                max_concurrent,
                queue: optional(&var, "SANDBOX_QUEUE")?,
            },
            max_body_bytes,
            submit_max_in_flight,
            log_format: match var("LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(invalid(
                        "LOG_FORMAT",
                        format!("unknown value {other:?}; expected text or json"),
                    ))
                }
            },
            llm: llm_settings(&var, prod)?,
            telegram: telegram_settings(&var, prod)?,
            telegram_bot_username: telegram_bot_username(&var)?,
            rate_limit: crate::rate_limit::RateLimitConfig::from_lookup(&var, prod, &mut warnings)?,
            log_filter: var("RUST_LOG"),
            warnings,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }
}

fn parse<T: FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|e| invalid(name, format!("cannot parse {raw:?}: {e}"))),
    }
}

fn optional<T: FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    var(name)
        .map(|raw| {
            raw.parse()
                .map_err(|e| invalid(name, format!("cannot parse {raw:?}: {e}")))
        })
        .transpose()
}

fn list<T, E: std::fmt::Display>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    item: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, ConfigError> {
    let Some(raw) = var(name) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| item(s).map_err(|e| invalid(name, format!("cannot parse {s:?}: {e}"))))
        .collect()
}

/// Origins must be exact `scheme://host[:port]` values; `*` is refused because credentials
/// (bearer tokens) are sent cross-origin.
fn cors_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for o in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let o = o.trim_end_matches('/');
        let scheme_ok = o.starts_with("http://") || o.starts_with("https://");
        let rest = o.split_once("://").map_or("", |(_, r)| r);
        if !scheme_ok || rest.is_empty() || rest.contains('/') || rest.contains('*') {
            return Err(invalid(
                "CORS_ORIGINS",
                format!("{o:?} is not an origin like https://app.example.org"),
            ));
        }
        out.push(o.to_string());
    }
    Ok(out)
}

/// A secret from the environment. In development a missing one becomes a random value for this
/// process only (tokens then die with the process); in production it must be present, long and
/// not a placeholder.
fn secret(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    example: &str,
    prod: bool,
    warnings: &mut Vec<String>,
) -> Result<SecretString, ConfigError> {
    match var(name) {
        Some(value) => {
            if prod {
                check_production_secret(name, &value, example)?;
            }
            Ok(SecretString::from(value))
        }
        None if prod => Err(invalid(
            name,
            "is required in production (generate one with `openssl rand -hex 32`)",
        )),
        None => {
            warnings.push(format!(
                "{name} is not set: using a random value for this process only (development mode)"
            ));
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            Ok(SecretString::from(hex::encode(bytes)))
        }
    }
}

fn check_production_secret(
    name: &'static str,
    value: &str,
    example: &str,
) -> Result<(), ConfigError> {
    let lower = value.to_ascii_lowercase();
    if value == example || PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m)) {
        return Err(invalid(
            name,
            "looks like a placeholder; set a randomly generated value",
        ));
    }
    if value.len() < MIN_SECRET_BYTES {
        return Err(invalid(
            name,
            format!("must be at least {MIN_SECRET_BYTES} bytes long in production"),
        ));
    }
    let distinct: std::collections::HashSet<u8> = value.bytes().collect();
    if distinct.len() < 8 {
        return Err(invalid(
            name,
            "has too little variety to be a generated secret",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const GOOD_JWT: &str = "3f9a1c7e5b2d8046af13ce97b5d20e4c8a61f7d39b0e25c4";
    const GOOD_KEY: &str = "9c2e7a41d85f0b36e1c4a9d27f5b80e3c6a14d9f72b5e08a";

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn prod(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars = vec![
            ("CAMPUS_ENV", "production"),
            ("JWT_SECRET", GOOD_JWT),
            ("BACKEND_API_KEY", GOOD_KEY),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
        ];
        for (k, v) in extra {
            vars.retain(|(name, _)| name != k);
            vars.push((k, v));
        }
        load(&vars)
    }

    fn failing_var(r: Result<Config, ConfigError>) -> &'static str {
        match r {
            Err(ConfigError::Invalid { var, .. }) => var,
            other => panic!("expected an invalid variable, got {other:?}"),
        }
    }

    #[test]
    fn telegram_settings_are_checked_and_the_token_never_printed() {
        let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_";
        assert!(load(&[]).unwrap().telegram.is_none());
        let c = load(&[
            ("TELEGRAM_BOT_TOKEN", token),
            ("TELEGRAM_BOT_USERNAME", "@campus_bot"),
        ])
        .unwrap();
        let t = c.telegram.clone().unwrap();
        assert_eq!(t.api_url.as_str(), "https://api.telegram.org/");
        assert_eq!(t.poll_timeout, Duration::from_secs(25));
        assert_eq!(c.telegram_bot_username.as_deref(), Some("campus_bot"));
        assert!(
            !format!("{c:?}").contains("AAHdqTcv"),
            "the token is redacted"
        );
        for (vars, var) in [
            (
                vec![("TELEGRAM_BOT_TOKEN", "not-a-token")],
                "TELEGRAM_BOT_TOKEN",
            ),
            (
                vec![("TELEGRAM_BOT_TOKEN", "12:short")],
                "TELEGRAM_BOT_TOKEN",
            ),
            (
                vec![
                    ("TELEGRAM_BOT_TOKEN", token),
                    ("TELEGRAM_API_URL", "api.telegram.org"),
                ],
                "TELEGRAM_API_URL",
            ),
            (
                vec![
                    ("TELEGRAM_BOT_TOKEN", token),
                    ("TELEGRAM_POLL_TIMEOUT_SECS", "0"),
                ],
                "TELEGRAM_POLL_TIMEOUT_SECS",
            ),
            (
                vec![("TELEGRAM_BOT_USERNAME", "a b")],
                "TELEGRAM_BOT_USERNAME",
            ),
        ] {
            assert_eq!(failing_var(load(&vars)), var);
        }
        assert_eq!(
            failing_var(prod(&[(
                "TELEGRAM_BOT_TOKEN",
                "123456:your-token-from-botfather-goes-here"
            )])),
            "TELEGRAM_BOT_TOKEN"
        );
        assert!(prod(&[("TELEGRAM_BOT_TOKEN", token)]).is_ok());
    }

    #[test]
    fn nothing_configured_gives_the_documented_defaults() {
        let c = load(&[]).unwrap();
        assert_eq!(c.env, Environment::Development);
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url.expose_secret(), "sqlite://campus.db");
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(c.account_cache_ttl, Duration::from_secs(2));
        assert!(c.cors_origins.is_empty());
        assert_eq!(c.sandbox.image, "campus-sandbox:latest");
        assert_eq!(c.warnings.len(), 2, "one warning per generated secret");
    }

    #[test]
    fn the_account_cache_ttl_is_bounded_and_zero_turns_it_off() {
        let off = load(&[("ACCOUNT_CACHE_SECS", "0")]).unwrap();
        assert_eq!(off.account_cache_ttl, Duration::ZERO);
        for bad in ["61", "-1", "two"] {
            assert_eq!(
                failing_var(load(&[("ACCOUNT_CACHE_SECS", bad)])),
                "ACCOUNT_CACHE_SECS"
            );
        }
    }

    #[test]
    fn the_language_model_is_off_unless_configured_and_checked_when_it_is() {
        assert!(load(&[]).unwrap().llm.is_none());
        let on = load(&[
            ("LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("LLM_MODEL", "qwen2.5-coder"),
            ("LLM_API_KEY", "sk-secret-value"),
        ])
        .unwrap();
        let llm = on.llm.clone().unwrap();
        assert_eq!(llm.model, "qwen2.5-coder");
        assert_eq!(llm.timeout, Duration::from_secs(30));
        assert!(llm.feedback);
        assert!(!format!("{on:?}").contains("sk-secret-value"));
        for (vars, name) in [
            (vec![("LLM_MODEL", "m")], "LLM_BASE_URL"),
            (
                vec![("LLM_BASE_URL", "127.0.0.1:1/v1"), ("LLM_MODEL", "m")],
                "LLM_BASE_URL",
            ),
            (vec![("LLM_BASE_URL", "http://127.0.0.1:1/v1")], "LLM_MODEL"),
            (
                vec![
                    ("LLM_BASE_URL", "http://h/v1"),
                    ("LLM_MODEL", "m"),
                    ("LLM_TIMEOUT_SECS", "0"),
                ],
                "LLM_TIMEOUT_SECS",
            ),
            (
                vec![
                    ("LLM_BASE_URL", "http://h/v1"),
                    ("LLM_MODEL", "m"),
                    ("LLM_FEEDBACK", "yes"),
                ],
                "LLM_FEEDBACK",
            ),
        ] {
            assert_eq!(failing_var(load(&vars)), name, "{vars:?}");
        }
    }

    #[test]
    fn production_refuses_a_placeholder_language_model_key() {
        let prod = |key: &str| {
            load(&[
                ("CAMPUS_ENV", "production"),
                (
                    "JWT_SECRET",
                    "5e0c9a7b3d1f28a6c4e0b9d7f5a3c1e82b4d6f8a0c2e4b6d",
                ),
                (
                    "BACKEND_API_KEY",
                    "9f1b3d5e7a0c2e4f6b8d0a2c4e6f8b1d3f5a7c9e0b2d4f6a",
                ),
                ("REDIS_URL", "redis://127.0.0.1:6379"),
                ("LLM_BASE_URL", "https://llm.internal/v1"),
                ("LLM_MODEL", "m"),
                ("LLM_API_KEY", key),
            ])
        };
        assert_eq!(failing_var(prod("sk-your-provider-key")), "LLM_API_KEY");
        assert!(
            prod("sk-4f9a1c7e2b").is_ok(),
            "a real-looking key of any length loads"
        );
    }

    #[test]
    fn development_secrets_are_random_per_process() {
        let a = load(&[]).unwrap();
        let b = load(&[]).unwrap();
        assert_ne!(a.jwt_secret.expose_secret(), b.jwt_secret.expose_secret());
        assert!(a.jwt_secret.expose_secret().len() >= MIN_SECRET_BYTES);
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let c = prod(&[]).unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains(GOOD_JWT) && !dbg.contains(GOOD_KEY) && !dbg.contains("redis://"),
            "{dbg}"
        );
    }

    #[test]
    fn production_refuses_a_missing_jwt_secret_by_name() {
        let r = load(&[
            ("CAMPUS_ENV", "production"),
            ("BACKEND_API_KEY", GOOD_KEY),
            ("REDIS_URL", "redis://x"),
        ]);
        let e = r.unwrap_err();
        assert!(e.to_string().starts_with("JWT_SECRET"), "{e}");
    }

    #[test]
    fn production_refuses_placeholder_and_short_secrets_by_name() {
        for bad in [
            EXAMPLE_JWT_SECRET,
            "your-jwt-secret-here-your-jwt-secret-here",
            "supersecretsupersecretsupersecretsupersecret",
            "0123456789abcdef",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(
                failing_var(prod(&[("JWT_SECRET", bad)])),
                "JWT_SECRET",
                "{bad}"
            );
        }
        assert_eq!(
            failing_var(prod(&[("BACKEND_API_KEY", EXAMPLE_BACKEND_API_KEY)])),
            "BACKEND_API_KEY"
        );
        assert_eq!(
            failing_var(prod(&[("BACKEND_API_KEY", GOOD_JWT)])),
            "BACKEND_API_KEY"
        );
    }

    #[test]
    fn production_requires_redis() {
        let r = load(&[
            ("CAMPUS_ENV", "production"),
            ("JWT_SECRET", GOOD_JWT),
            ("BACKEND_API_KEY", GOOD_KEY),
        ]);
        assert_eq!(failing_var(r), "REDIS_URL");
        assert!(prod(&[]).is_ok());
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            failing_var(load(&[("CAMPUS_ADDR", "localhost")])),
            "CAMPUS_ADDR"
        );
        assert_eq!(
            failing_var(load(&[("CAMPUS_ENV", "staging")])),
            "CAMPUS_ENV"
        );
        assert_eq!(
            failing_var(load(&[("DATABASE_POOL_SIZE", "many")])),
            "DATABASE_POOL_SIZE"
        );
        assert_eq!(
            failing_var(load(&[("ACCESS_TOKEN_TTL_SECS", "-1")])),
            "ACCESS_TOKEN_TTL_SECS"
        );
        assert_eq!(failing_var(load(&[("CORS_ORIGINS", "*")])), "CORS_ORIGINS");
        assert_eq!(
            failing_var(load(&[("TRUSTED_PROXIES", "10.0.0.0/33")])),
            "TRUSTED_PROXIES"
        );
        assert_eq!(failing_var(load(&[("LOG_FORMAT", "xml")])), "LOG_FORMAT");
        assert_eq!(
            failing_var(load(&[("MAX_BODY_BYTES", "12")])),
            "MAX_BODY_BYTES"
        );
    }

    #[test]
    fn lists_are_parsed() {
        let c = load(&[
            (
                "CORS_ORIGINS",
                "https://a.example.org, http://localhost:3000/",
            ),
            ("TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1"),
        ])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            vec!["https://a.example.org", "http://localhost:3000"]
        );
        assert_eq!(c.trusted_proxies.len(), 2);
    }
}
