//! The sign-in flows behind `/auth/*`: register, log in, refresh, log out, exchange.
//! Handlers stay thin; every database call goes through `state::db`, hashing through
//! `state::blocking`.

use super::password;
use crate::{
    error::ApiError,
    state::{blocking, db, AppState},
};
use domain::{
    link::sha256_hex,
    user::{NewUser, Password, RefreshToken, Role, User, Username},
    FieldError, Timestamp,
};
use rand::RngCore;
use uuid::Uuid;

/// What a successful sign-in hands back.
pub struct Session {
    pub access_token: String,
    pub access_expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub user: User,
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("wrong username or password".into())
}

fn bad_refresh(why: &str) -> ApiError {
    ApiError::Unauthorized(format!("the refresh token {why}; sign in again"))
}

fn username_taken(e: ApiError) -> ApiError {
    match e {
        ApiError::Conflict { .. } => ApiError::Conflict {
            message: "that username is taken".into(),
            fields: vec![FieldError::new(
                "username",
                "is taken (usernames ignore case)",
            )],
        },
        other => other,
    }
}

/// A new random refresh token and the record to store for it (only its hash).
fn new_refresh(
    state: &AppState,
    user_id: Uuid,
    family_id: Uuid,
    now: Timestamp,
) -> (String, RefreshToken) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let plain = hex::encode(bytes);
    let ttl = chrono::Duration::from_std(state.config.refresh_token_ttl)
        .unwrap_or(chrono::Duration::days(30));
    let record = RefreshToken {
        token_hash: sha256_hex(&plain),
        family_id,
        user_id,
        expires_at: now + ttl,
        created_at: now,
        rotated_at: None,
        revoked_at: None,
    };
    (plain, record)
}

fn session(
    state: &AppState,
    user: User,
    refresh_token: String,
    now: Timestamp,
) -> Result<Session, ApiError> {
    let access_token = state
        .jwt
        .issue_access(user.id, user.role, now)
        .map_err(ApiError::internal)?;
    Ok(Session {
        access_token,
        access_expires_in: state.jwt.access_ttl().as_secs(),
        refresh_token,
        refresh_expires_in: state.config.refresh_token_ttl.as_secs(),
        user,
    })
}

/// Starts a new token family for `user`.
pub async fn start_session(state: &AppState, user: User) -> Result<Session, ApiError> {
    let now = domain::now();
    let (plain, record) = new_refresh(state, user.id, Uuid::new_v4(), now);
    db(state, move |db| db.insert_refresh_token(&record)).await?;
    session(state, user, plain, now)
}

pub async fn register(
    state: &AppState,
    username: Username,
    password: Password,
) -> Result<Session, ApiError> {
    let hash =
        blocking(move || password::hash(password.expose()).map_err(ApiError::internal)).await?;
    let new = NewUser {
        id: Uuid::new_v4(),
        username,
        role: Role::Student,
        password_hash: Some(hash),
        external_id_hash: None,
        telegram_user_id: None,
        created_at: domain::now(),
    };
    let user = db(state, move |db| db.insert_user(&new))
        .await
        .map_err(username_taken)?;
    tracing::info!(user_id = %user.id, "account registered");
    start_session(state, user).await
}

/// Unknown users, accounts without a password and wrong passwords all get the same 401 after
/// the same amount of argon2 work.
pub async fn login(
    state: &AppState,
    username: &str,
    password: String,
) -> Result<Session, ApiError> {
    let user = match Username::parse(username) {
        Ok(name) => db(state, move |db| db.user_by_username(&name)).await?,
        Err(_) => None,
    };
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_password_hash.to_string());
    let matches = blocking(move || Ok::<_, ApiError>(password::verify(&hash, &password))).await?;
    match user {
        Some(user) if matches && user.password_hash.is_some() => {
            tracing::info!(user_id = %user.id, "signed in");
            start_session(state, user).await
        }
        _ => Err(bad_credentials()),
    }
}

/// Rotates a refresh token. Presenting one that was already rotated means it leaked (or a
/// client misbehaves): the whole family is revoked and every holder must sign in again.
pub async fn refresh(state: &AppState, token: &str) -> Result<Session, ApiError> {
    let old_hash = sha256_hex(token);
    let now = domain::now();
    let lookup = old_hash.clone();
    let stored = db(state, move |db| db.refresh_token(&lookup))
        .await?
        .ok_or_else(|| bad_refresh("is not valid"))?;
    if stored.revoked_at.is_some() {
        return Err(bad_refresh("was revoked"));
    }
    if stored.rotated_at.is_some() {
        revoke_reused(state, &stored, now).await?;
        return Err(bad_refresh(
            "was already used, so every session it belonged to has been ended",
        ));
    }
    if stored.expires_at <= now {
        return Err(bad_refresh("has expired"));
    }
    let (plain, next) = new_refresh(state, stored.user_id, stored.family_id, now);
    let rotated = db(state, move |db| {
        db.rotate_refresh_token(&old_hash, &next, now)
    })
    .await?;
    if !rotated {
        // Another request rotated it between our read and our write: the same reuse.
        revoke_reused(state, &stored, now).await?;
        return Err(bad_refresh(
            "was already used, so every session it belonged to has been ended",
        ));
    }
    let user_id = stored.user_id;
    let user = db(state, move |db| db.user_by_id(user_id))
        .await?
        .ok_or_else(|| bad_refresh("has no account"))?;
    session(state, user, plain, now)
}

async fn revoke_reused(
    state: &AppState,
    stored: &RefreshToken,
    now: Timestamp,
) -> Result<(), ApiError> {
    tracing::warn!(user_id = %stored.user_id, family_id = %stored.family_id, "refresh token reused; family revoked");
    let family = stored.family_id;
    db(state, move |db| db.revoke_family(family, now)).await
}

/// Ends the session the token belongs to (its whole family). Unknown tokens are ignored, so
/// logging out twice is harmless.
pub async fn logout(state: &AppState, token: &str) -> Result<(), ApiError> {
    let hash = sha256_hex(token);
    let now = domain::now();
    let stored = db(state, move |db| db.refresh_token(&hash)).await?;
    if let Some(stored) = stored {
        let family = stored.family_id;
        db(state, move |db| db.revoke_family(family, now)).await?;
        tracing::info!(user_id = %stored.user_id, "signed out");
    }
    Ok(())
}

/// The trusted front end vouches for `provider:subject`. Only its SHA-256 is stored; a student
/// account is created the first time it is seen.
pub async fn exchange(
    state: &AppState,
    provider: &str,
    subject: &str,
    username: Option<Username>,
) -> Result<(Session, bool), ApiError> {
    let external = sha256_hex(&format!("{provider}:{subject}"));
    if let Some(user) = by_external(state, &external).await? {
        return Ok((start_session(state, user).await?, false));
    }
    // The requested name if free, else the name with a suffix; without a request,
    // `provider-xxxxxxxx`. The suffix comes from the subject's hash, so it is stable.
    let suffix = &external[..8];
    let mut candidates = Vec::new();
    let base = match username {
        Some(name) => {
            let base = name
                .as_str()
                .chars()
                .take(Username::MAX - 9)
                .collect::<String>();
            candidates.push(name);
            base
        }
        None => provider.chars().take(Username::MAX - 9).collect(),
    };
    if let Ok(name) = Username::parse(&format!("{base}-{suffix}")) {
        candidates.push(name);
    }
    for name in candidates {
        let new = NewUser {
            id: Uuid::new_v4(),
            username: name,
            role: Role::Student,
            password_hash: None,
            external_id_hash: Some(external.clone()),
            telegram_user_id: None,
            created_at: domain::now(),
        };
        match db(state, move |db| db.insert_user(&new)).await {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "account created through the front end");
                return Ok((start_session(state, user).await?, true));
            }
            Err(ApiError::Conflict { .. }) => {
                // Either the name is taken (try the next one) or a concurrent exchange for the
                // same subject won the race (use its account).
                if let Some(user) = by_external(state, &external).await? {
                    return Ok((start_session(state, user).await?, false));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::Conflict {
        message: "no free username could be derived; send another `username`".into(),
        fields: vec![FieldError::new("username", "is taken")],
    })
}

async fn by_external(state: &AppState, external: &str) -> Result<Option<User>, ApiError> {
    let key = external.to_string();
    db(state, move |db| db.user_by_external_id(&key)).await
}
