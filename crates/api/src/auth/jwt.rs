//! Access tokens: HS256 JWTs, and nothing else.
//!
//! The algorithm is pinned in `Validation`, so a token whose header says `none`, `HS512` or
//! `RS256` is refused before its signature is even looked at. Times are UTC seconds since the
//! epoch (`iat`, `nbf`, `exp`), checked with a small leeway for clock skew.

use domain::{user::Role, Timestamp};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

pub const ISSUER: &str = "campus";
/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 5;

/// What an access token says. `role` is informational (the extractors re-read the role from
/// the database on every request, so a demotion takes effect at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
}

/// The signing and verifying keys plus the pinned validation rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &SecretString, access_ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss"]);
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            access_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// A signed access token for `user_id`, valid from `now` for the configured lifetime.
    pub fn issue_access(
        &self,
        user_id: Uuid,
        role: Role,
        now: Timestamp,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.timestamp();
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            sub: user_id,
            role,
            iss: ISSUER.into(),
            iat,
            nbf: iat,
            exp: iat.saturating_add(ttl),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Verifies signature, algorithm, issuer and times. Cheap (no database): the rate limiter
    /// may call it to key budgets by user.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let data =
            decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|e| match e
                .kind()
            {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        // jsonwebtoken does not check `iat`; a token issued in the future is as odd as an early `nbf`.
        let now = domain::now().timestamp();
        let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(0);
        if data.claims.iat > now + leeway {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&SecretString::from(secret), Duration::from_secs(900))
    }

    fn sign(alg: Algorithm, claims: &AccessClaims, secret: &[u8]) -> String {
        encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn claims(offset_iat: i64, ttl: i64) -> AccessClaims {
        let iat = domain::now().timestamp() + offset_iat;
        AccessClaims {
            sub: Uuid::new_v4(),
            role: Role::Student,
            iss: ISSUER.into(),
            iat,
            nbf: iat,
            exp: iat + ttl,
        }
    }

    #[test]
    fn a_fresh_token_round_trips() {
        let k = keys("k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1");
        let id = Uuid::new_v4();
        let t = k.issue_access(id, Role::Teacher, domain::now()).unwrap();
        let c = k.verify_access(&t).unwrap();
        assert_eq!((c.sub, c.role), (id, Role::Teacher));
        assert_eq!(c.exp - c.iat, 900);
    }

    #[test]
    fn other_algorithms_and_keys_are_refused() {
        let secret = b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1";
        let k = keys(std::str::from_utf8(secret).unwrap());
        let c = claims(0, 600);
        assert!(k.verify_access(&sign(Algorithm::HS256, &c, secret)).is_ok());
        assert_eq!(
            k.verify_access(&sign(Algorithm::HS512, &c, secret)),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            k.verify_access(&sign(Algorithm::HS384, &c, secret)),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            k.verify_access(&sign(
                Algorithm::HS256,
                &c,
                b"another-key-another-key-another-k"
            )),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn expiry_and_not_before_are_checked_with_leeway() {
        let secret = b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1";
        let k = keys(std::str::from_utf8(secret).unwrap());
        assert_eq!(
            k.verify_access(&sign(Algorithm::HS256, &claims(-1000, 900), secret)),
            Err(TokenError::Expired)
        );
        // Expired 2 s ago: inside the leeway.
        assert!(k
            .verify_access(&sign(Algorithm::HS256, &claims(-902, 900), secret))
            .is_ok());
        assert_eq!(
            k.verify_access(&sign(Algorithm::HS256, &claims(120, 900), secret)),
            Err(TokenError::Invalid)
        );
    }
}
