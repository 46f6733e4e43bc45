//! `.env.example` documents every variable the configuration reads, its defaults load, and its
//! placeholder secrets are refused in production.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api::config::{Config, ConfigError};
use std::{cell::RefCell, collections::BTreeMap};

const EXAMPLE: &str = include_str!("../../../.env.example");

/// `NAME=value` lines; `commented` includes `# NAME=value` lines too.
fn entries(commented: bool) -> BTreeMap<String, String> {
    EXAMPLE
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = if commented {
                l.trim_start_matches('#').trim()
            } else {
                l
            };
            let (k, v) = l.split_once('=')?;
            let ok = !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            ok.then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

#[test]
fn every_variable_the_config_reads_is_documented() {
    let asked = RefCell::new(Vec::new());
    let _ = Config::from_lookup(|name| {
        asked.borrow_mut().push(name.to_string());
        None
    });
    let documented = entries(true);
    let asked = asked.into_inner();
    assert!(asked.len() >= 15, "the recorder saw the lookups: {asked:?}");
    for name in asked {
        assert!(
            documented.contains_key(&name),
            "{name} is read but missing from .env.example"
        );
    }
}

#[test]
fn the_example_values_load_in_development() {
    let vars = entries(false);
    let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
    assert!(config.cors_origins.is_empty());
}

#[test]
fn the_example_secrets_are_refused_in_production() {
    let all = entries(true);
    for secret in ["JWT_SECRET", "BACKEND_API_KEY"] {
        let mut vars = all.clone();
        vars.insert("CAMPUS_ENV".into(), "production".into());
        vars.insert("REDIS_URL".into(), "redis://127.0.0.1:6379".into());
        // Only `secret` keeps its example value; the other one is real.
        for other in ["JWT_SECRET", "BACKEND_API_KEY"]
            .iter()
            .filter(|o| **o != secret)
        {
            vars.insert(
                other.to_string(),
                "5e0c9a7b3d1f28a6c4e0b9d7f5a3c1e82b4d6f8a0c2e4b6d".into(),
            );
        }
        match Config::from_lookup(|k| vars.get(k).cloned()) {
            Err(ConfigError::Invalid { var, .. }) => assert_eq!(var, secret),
            other => panic!("{secret}: expected a refusal, got {other:?}"),
        }
    }
}
