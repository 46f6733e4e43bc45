//! `RateLimitConfig`: the budgets per route class, read from `RATE_LIMIT_*` variables.
//!
//! Each budget is `N/WINDOW`: `10/60`, `10/60s`, `10/1m`, `100/1h` (a bare number is seconds),
//! or `off` (not allowed in production for the sign-in budgets).

use crate::config::ConfigError;
use domain::rate_limit::{Quota, RouteClass};
use std::time::Duration;

/// The variable of each class, with its default budget.
pub const CLASS_VARS: &[(RouteClass, &str, Quota)] = &[
    // Sign-in, registration, refresh: per client address.
    (
        RouteClass::Auth,
        "RATE_LIMIT_AUTH",
        Quota {
            limit: 10,
            window_secs: 60,
        },
    ),
    // Code submissions (each one starts a container).
    (
        RouteClass::Submit,
        "RATE_LIMIT_SUBMIT",
        Quota {
            limit: 30,
            window_secs: 60,
        },
    ),
    // LLM feedback and task generation (each one costs a model call).
    (
        RouteClass::Llm,
        "RATE_LIMIT_LLM",
        Quota {
            limit: 10,
            window_secs: 60,
        },
    ),
    // Telegram link codes.
    (
        RouteClass::Link,
        "RATE_LIMIT_LINK",
        Quota {
            limit: 5,
            window_secs: 60,
        },
    ),
    // Everything else.
    (
        RouteClass::General,
        "RATE_LIMIT_GENERAL",
        Quota {
            limit: 600,
            window_secs: 60,
        },
    ),
];

pub const LOGIN_USERNAME_VAR: &str = "RATE_LIMIT_LOGIN_USERNAME";
/// Sign-in attempts per username, whatever the address they come from.
pub const DEFAULT_LOGIN_USERNAME: Quota = Quota {
    limit: 5,
    window_secs: 60,
};

pub const REDIS_TIMEOUT_VAR: &str = "REDIS_TIMEOUT_MS";
pub const PROBE_VAR: &str = "RATE_LIMIT_PROBE_MS";
pub const MEMORY_MAX_KEYS_VAR: &str = "RATE_LIMIT_MEMORY_MAX_KEYS";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `None` for a class switched `off`.
    pub auth: Option<Quota>,
    pub submit: Option<Quota>,
    pub llm: Option<Quota>,
    pub link: Option<Quota>,
    pub general: Option<Quota>,
    pub login_per_username: Option<Quota>,
    /// Connect and command timeout for Redis: a dead or hung Redis costs a request this much
    /// at most before the in-process fallback answers.
    pub redis_timeout: Duration,
    /// While degraded, how often Redis is tried again.
    pub probe_interval: Duration,
    /// Bound on keys held by the in-process limiter.
    pub memory_max_keys: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let quota = |class| {
            CLASS_VARS
                .iter()
                .find(|(c, _, _)| *c == class)
                .map(|(_, _, q)| *q)
        };
        Self {
            auth: quota(RouteClass::Auth),
            submit: quota(RouteClass::Submit),
            llm: quota(RouteClass::Llm),
            link: quota(RouteClass::Link),
            general: quota(RouteClass::General),
            login_per_username: Some(DEFAULT_LOGIN_USERNAME),
            redis_timeout: Duration::from_millis(250),
            probe_interval: Duration::from_secs(2),
            memory_max_keys: persistence::rate_limit::DEFAULT_MAX_KEYS,
        }
    }
}

impl RateLimitConfig {
    /// The budget of `class`, `None` when switched off.
    pub fn quota(&self, class: RouteClass) -> Option<Quota> {
        match class {
            RouteClass::Auth => self.auth,
            RouteClass::Submit => self.submit,
            RouteClass::Llm => self.llm,
            RouteClass::Link => self.link,
            RouteClass::General => self.general,
        }
    }

    fn slot(&mut self, class: RouteClass) -> &mut Option<Quota> {
        match class {
            RouteClass::Auth => &mut self.auth,
            RouteClass::Submit => &mut self.submit,
            RouteClass::Llm => &mut self.llm,
            RouteClass::Link => &mut self.link,
            RouteClass::General => &mut self.general,
        }
    }

    /// Reads every `RATE_LIMIT_*` variable (and `REDIS_TIMEOUT_MS`); unset ones keep their
    /// defaults. `var` treats empty values as unset.
    pub fn from_lookup(
        var: &impl Fn(&str) -> Option<String>,
        production: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        for &(class, name, _) in CLASS_VARS {
            if let Some(raw) = var(name) {
                *config.slot(class) = parse_budget(name, &raw)?;
            }
        }
        if let Some(raw) = var(LOGIN_USERNAME_VAR) {
            config.login_per_username = parse_budget(LOGIN_USERNAME_VAR, &raw)?;
        }
        for (name, value) in [
            ("RATE_LIMIT_AUTH", config.auth),
            (LOGIN_USERNAME_VAR, config.login_per_username),
        ] {
            if value.is_none() {
                if production {
                    return Err(invalid(
                        name,
                        "cannot be off in production (it guards sign-in against brute force)",
                    ));
                }
                warnings.push(format!(
                    "{name}=off: sign-in is not rate limited (development only)"
                ));
            }
        }
        config.redis_timeout =
            Duration::from_millis(number(var, REDIS_TIMEOUT_VAR, 250, 10, 10_000)?);
        config.probe_interval = Duration::from_millis(number(var, PROBE_VAR, 2_000, 100, 600_000)?);
        config.memory_max_keys =
            usize::try_from(number(var, MEMORY_MAX_KEYS_VAR, 100_000, 100, 100_000_000)?)
                .map_err(|_| invalid(MEMORY_MAX_KEYS_VAR, "too large for this machine"))?;
        Ok(config)
    }
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        message: message.into(),
    }
}

fn number(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    let n: u64 = raw
        .parse()
        .map_err(|_| invalid(name, format!("{raw:?} is not a whole number")))?;
    if !(min..=max).contains(&n) {
        return Err(invalid(name, format!("must be between {min} and {max}")));
    }
    Ok(n)
}

/// `N/WINDOW` or `off`.
pub fn parse_budget(name: &'static str, raw: &str) -> Result<Option<Quota>, ConfigError> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let expected = "expected N/WINDOW such as 10/60, 10/60s, 10/1m, 100/1h, or off";
    let (n, window) = raw
        .split_once('/')
        .ok_or_else(|| invalid(name, format!("{raw:?}: {expected}")))?;
    let limit: u32 = n
        .trim()
        .parse()
        .map_err(|_| invalid(name, format!("{raw:?}: {expected}")))?;
    let window = window.trim();
    if window.is_empty() {
        return Err(invalid(name, format!("{raw:?}: {expected}")));
    }
    let (digits, unit) = match window.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => window.split_at(i),
        None => (window, "s"),
    };
    let count: u32 = if digits.is_empty() {
        1
    } else {
        digits
            .parse()
            .map_err(|_| invalid(name, format!("{raw:?}: {expected}")))?
    };
    let scale = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => {
            return Err(invalid(
                name,
                format!("{raw:?}: unknown unit {unit:?}; {expected}"),
            ))
        }
    };
    let window_secs = count.saturating_mul(scale);
    if !(1..=1_000_000).contains(&limit) {
        return Err(invalid(
            name,
            "the number of requests must be between 1 and 1000000",
        ));
    }
    if !(1..=86_400).contains(&window_secs) {
        return Err(invalid(
            name,
            "the window must be between 1 second and 1 day",
        ));
    }
    Ok(Some(Quota { limit, window_secs }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::HashMap;

    fn load(
        vars: &[(&str, &str)],
        production: bool,
    ) -> Result<(RateLimitConfig, Vec<String>), ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut warnings = Vec::new();
        RateLimitConfig::from_lookup(&|k| map.get(k).cloned(), production, &mut warnings)
            .map(|c| (c, warnings))
    }

    fn var_of(r: Result<(RateLimitConfig, Vec<String>), ConfigError>) -> &'static str {
        match r {
            Err(ConfigError::Invalid { var, .. }) => var,
            other => panic!("expected an invalid variable, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_tight_for_sign_in_and_loose_for_reading() {
        let (c, warnings) = load(&[], true).unwrap();
        assert_eq!(
            c.auth,
            Some(Quota {
                limit: 10,
                window_secs: 60
            })
        );
        assert_eq!(
            c.login_per_username,
            Some(Quota {
                limit: 5,
                window_secs: 60
            })
        );
        assert_eq!(
            c.submit,
            Some(Quota {
                limit: 30,
                window_secs: 60
            })
        );
        assert_eq!(
            c.llm,
            Some(Quota {
                limit: 10,
                window_secs: 60
            })
        );
        assert_eq!(
            c.link,
            Some(Quota {
                limit: 5,
                window_secs: 60
            })
        );
        assert_eq!(
            c.general,
            Some(Quota {
                limit: 600,
                window_secs: 60
            })
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn budgets_accept_units_and_off() {
        let (c, _) = load(
            &[
                ("RATE_LIMIT_SUBMIT", "3/1m"),
                ("RATE_LIMIT_LLM", "100/1h"),
                ("RATE_LIMIT_LINK", " 2 / 30s "),
                ("RATE_LIMIT_GENERAL", "off"),
                ("RATE_LIMIT_AUTH", "4/2"),
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            c.submit,
            Some(Quota {
                limit: 3,
                window_secs: 60
            })
        );
        assert_eq!(
            c.llm,
            Some(Quota {
                limit: 100,
                window_secs: 3600
            })
        );
        assert_eq!(
            c.link,
            Some(Quota {
                limit: 2,
                window_secs: 30
            })
        );
        assert_eq!(c.general, None);
        assert_eq!(
            c.auth,
            Some(Quota {
                limit: 4,
                window_secs: 2
            })
        );
    }

    #[test]
    fn bad_budgets_name_their_variable() {
        for bad in [
            "10", "ten/60", "10/60x", "0/60", "10/0", "10/2d", "5/100000", "-1/60", "10/",
        ] {
            assert_eq!(
                var_of(load(&[("RATE_LIMIT_SUBMIT", bad)], false)),
                "RATE_LIMIT_SUBMIT",
                "{bad}"
            );
        }
        assert_eq!(
            var_of(load(&[("RATE_LIMIT_LOGIN_USERNAME", "x")], false)),
            "RATE_LIMIT_LOGIN_USERNAME"
        );
        assert_eq!(
            var_of(load(&[("REDIS_TIMEOUT_MS", "0")], false)),
            "REDIS_TIMEOUT_MS"
        );
        assert_eq!(
            var_of(load(&[("RATE_LIMIT_PROBE_MS", "soon")], false)),
            "RATE_LIMIT_PROBE_MS"
        );
    }

    #[test]
    fn production_refuses_unlimited_sign_in() {
        assert_eq!(
            var_of(load(&[("RATE_LIMIT_AUTH", "off")], true)),
            "RATE_LIMIT_AUTH"
        );
        assert_eq!(
            var_of(load(&[("RATE_LIMIT_LOGIN_USERNAME", "off")], true)),
            "RATE_LIMIT_LOGIN_USERNAME"
        );
        let (_, warnings) = load(&[("RATE_LIMIT_AUTH", "off")], false).unwrap();
        assert_eq!(warnings.len(), 1);
    }
}
