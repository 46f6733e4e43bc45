//! Accounts: who someone is and what they may do.

use crate::{error::FieldError, string_enum, Timestamp};
use uuid::Uuid;

string_enum! {
    /// What an account may do. Stored as this enum's spelling, never as a free string.
    pub enum Role {
        Student => "student",
        Teacher => "teacher",
        Admin => "admin",
    }
}

impl Role {
    /// Teachers author content and read analytics; admins can do all of that too.
    pub fn can_author(self) -> bool {
        matches!(self, Role::Teacher | Role::Admin)
    }
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// A username: 3 to 32 characters of ASCII letters, digits, `_`, `.` and `-`, starting with a
/// letter or digit. Uniqueness ignores case: `key()` is what the database holds unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| Err(FieldError::new("username", m));
        if raw.len() < Self::MIN || raw.len() > Self::MAX {
            return err("must be 3 to 32 characters long");
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return err("may contain only ASCII letters, digits, '_', '.' and '-'");
        }
        if !raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            return err("must start with a letter or a digit");
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form the database keeps unique, so `Ann` and `ann` cannot both exist.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed. Never printed: `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    pub fn parse(raw: String) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN {
            return Err(FieldError::new(
                "password",
                "must be at least 8 characters long",
            ));
        }
        if n > Self::MAX {
            return Err(FieldError::new(
                "password",
                "must be at most 256 characters long",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: Username,
    pub role: Role,
    /// PHC string (argon2id). `None` for accounts that only sign in through a trusted front end.
    pub password_hash: Option<String>,
    /// SHA-256 hex of `provider:subject` from an OAuth provider; the subject itself is never stored.
    pub external_id_hash: Option<String>,
    pub telegram_user_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub username: Username,
    pub role: Role,
    pub password_hash: Option<String>,
    pub external_id_hash: Option<String>,
    pub telegram_user_id: Option<i64>,
    pub created_at: Timestamp,
}

/// A stored refresh token (only its hash). Tokens rotate within a family; reusing a rotated
/// one revokes the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    /// Set when the token was exchanged for a new one.
    pub rotated_at: Option<Timestamp>,
    /// Set when the family was revoked (logout, reuse detected).
    pub revoked_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn usernames_differing_only_in_case_share_a_key() {
        let a = Username::parse("Ann_1").unwrap();
        let b = Username::parse("ann_1").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn bad_usernames_are_refused_with_the_field_named() {
        for bad in ["ab", "a b c", "_lead", "ü-name", &"x".repeat(33)] {
            let e = Username::parse(bad).unwrap_err();
            assert_eq!(e.field, "username", "{bad}");
        }
    }

    #[test]
    fn role_round_trips_through_its_one_spelling() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        assert!("STUDENT".parse::<Role>().is_err());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("hunter2hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
