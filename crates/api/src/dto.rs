//! Response types shared by several routes. Every response is a DTO defined in `api`
//! (camelCase, documented in OpenAPI), converted from domain values; domain and row types
//! never go on the wire directly.

use chrono::{DateTime, Utc};
use domain::user::{Role, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A role as the API spells it. The conversions below are exhaustive, so a new domain role
/// fails to compile here until the API decides how to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Student,
    Teacher,
    Admin,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Student => Self::Student,
            Role::Teacher => Self::Teacher,
            Role::Admin => Self::Admin,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Student => Self::Student,
            RoleDto::Teacher => Self::Teacher,
            RoleDto::Admin => Self::Admin,
        }
    }
}

/// An account, as its owner or an admin sees it. No hashes, no external identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub id: Uuid,
    pub username: String,
    pub role: RoleDto,
    /// Whether the account can sign in with a password (accounts made through the front end cannot).
    pub has_password: bool,
    pub telegram_linked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username.as_str().to_string(),
            role: u.role.into(),
            has_password: u.password_hash.is_some(),
            telegram_linked: u.telegram_user_id.is_some(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Tokens handed out by register, login, refresh and exchange.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// A JWT (HS256) to send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque; exchange it at `/auth/refresh` for new tokens. Each one works once.
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub user: UserDto,
}

impl From<crate::auth::flows::Session> for AuthResponse {
    fn from(s: crate::auth::flows::Session) -> Self {
        Self {
            access_token: s.access_token,
            token_type: "Bearer".into(),
            expires_in: s.access_expires_in,
            refresh_token: s.refresh_token,
            refresh_expires_in: s.refresh_expires_in,
            user: s.user.into(),
        }
    }
}

// Tokens must never reach a log line through `{:?}`.
impl std::fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResponse")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A one-time code to send to the Campus Telegram bot, which links the Telegram account that
/// sends it to this account. Shown once; only its hash is stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkCodeDto {
    /// Eight letters and digits; case and spaces do not matter when typed.
    pub code: String,
    /// The code works once, until this moment (10 minutes).
    pub expires_at: DateTime<Utc>,
    /// `https://t.me/<bot>?start=<code>`, when the server knows the bot's username
    /// (`TELEGRAM_BOT_USERNAME`); opening it sends the code to the bot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep_link: Option<String>,
}
