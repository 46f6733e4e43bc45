//! The per-username sign-in budget: a password guesser spreading attempts over many
//! addresses still gets `RATE_LIMIT_LOGIN_USERNAME` tries per account and window.
//!
//! Spent in the login handler, before the password is checked, for every attempt (right or
//! wrong, known user or not, so the budget reveals nothing about which usernames exist). The
//! key is a hash of the lower-cased username: usernames are unique ignoring case, and Redis
//! never holds the names themselves.

use super::middleware::record_decision;
use crate::{error::ApiError, state::AppState};
use actix_web::HttpRequest;
use domain::rate_limit::RouteClass;
use persistence::rate_limit::bucket_key;
use sha2::{Digest, Sha256};

pub async fn check_username(
    state: &AppState,
    req: &HttpRequest,
    username: &str,
) -> Result<(), ApiError> {
    let Some(quota) = state.config.rate_limit.login_per_username else {
        return Ok(());
    };
    let key = bucket_key(
        RouteClass::Auth,
        &format!("login:{}", username_digest(username)),
    );
    let Some(decision) = state.limiter.check(&key, quota).await else {
        return Ok(());
    };
    record_decision(req, decision);
    if decision.allowed {
        Ok(())
    } else {
        tracing::info!("sign-in refused: too many attempts for one username");
        Err(ApiError::TooManyRequests {
            retry_after_secs: decision.retry_after_secs,
        })
    }
}

fn username_digest(username: &str) -> String {
    let digest = Sha256::digest(username.trim().to_lowercase().as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn one_budget_per_username_ignoring_case() {
        assert_eq!(username_digest("Ada"), username_digest("ada"));
        assert_ne!(username_digest("ada"), username_digest("bob"));
        let d = username_digest("ada");
        assert!(
            d.len() == 32 && d.chars().all(|c| c.is_ascii_hexdigit()),
            "{d}"
        );
    }
}
