//! Who is asking: actix extractors that state a handler's audience in its signature.
//!
//! `CurrentUser` (any signed-in account), `Teacher` (teacher or admin), `Admin`, `MaybeUser`
//! (anyone; the account if a valid token came along) and `FrontEnd` (the trusted web front end,
//! by `X-Api-Key`). The role comes from the database, not from the token: teacher and admin
//! routes read it on every request, so a demoted teacher loses access with their very next
//! request; routes open to any signed-in account accept it from the short per-process account
//! cache (`accounts`, `ACCOUNT_CACHE_SECS`). The answer is also kept in the request, so the
//! registry's audience guard and the handler's extractor share one lookup.

use super::{accounts::Freshness, jwt::TokenError};
use crate::{error::ApiError, state::AppState};
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use domain::{
    services::Viewer,
    user::{Role, Username},
};
use futures_util::future::LocalBoxFuture;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// The header the trusted front end sends its shared key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// A signed-in account, as the database knows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: Username,
    pub role: Role,
}

impl CurrentUser {
    pub fn viewer(&self) -> Viewer {
        Viewer::new(self.id, self.role)
    }
}

/// A teacher or an admin.
#[derive(Debug, Clone)]
pub struct Teacher(pub CurrentUser);

/// An admin.
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

/// Anyone; `Some` when a valid access token came along. A token that is present but invalid
/// is still a 401, so a client learns that its token expired.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

/// The trusted front end, recognized by `X-Api-Key` (compared in constant time).
#[derive(Debug, Clone, Copy)]
pub struct FrontEnd;

impl std::ops::Deref for Teacher {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl std::ops::Deref for Admin {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState is not registered"))
}

/// The bearer token of a request, if any. A malformed `Authorization` header is a 401.
fn bearer(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <access token>`".into(),
        )),
    }
}

/// What this request already learned about its account.
#[derive(Clone)]
struct Authenticated {
    user: CurrentUser,
    freshness: Freshness,
}

/// The account behind the request's access token (`None` without one), remembered for the
/// rest of the request. `Fresh` reads the database even when the account cache holds it.
pub async fn authenticate(
    req: &HttpRequest,
    freshness: Freshness,
) -> Result<Option<CurrentUser>, ApiError> {
    if let Some(known) = req.extensions().get::<Authenticated>() {
        if known.freshness == Freshness::Fresh || freshness == Freshness::Cached {
            return Ok(Some(known.user.clone()));
        }
    }
    let Some(token) = bearer(req)? else {
        return Ok(None);
    };
    let state = state(req)?;
    let claims = state.jwt.verify_access(token).map_err(|e| match e {
        TokenError::Expired => {
            ApiError::Unauthorized("the access token has expired; refresh it".into())
        }
        TokenError::Invalid => ApiError::Unauthorized("the access token is invalid".into()),
    })?;
    let user = state
        .accounts
        .get(&state, claims.sub, freshness)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    req.extensions_mut().insert(Authenticated {
        user: user.clone(),
        freshness,
    });
    Ok(Some(user))
}

/// Any signed-in account; the account may come from the short-lived account cache.
pub async fn require_user(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    authenticate(req, Freshness::Cached)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

/// A teacher or admin, as the database knows the account at this request.
pub async fn require_teacher(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let user = authenticate(req, Freshness::Fresh)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if user.role.can_author() {
        Ok(user)
    } else {
        Err(ApiError::Forbidden(
            "this needs a teacher or admin account".into(),
        ))
    }
}

/// An admin, as the database knows the account at this request.
pub async fn require_admin(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let user = authenticate(req, Freshness::Fresh)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if user.role.is_admin() {
        Ok(user)
    } else {
        Err(ApiError::Forbidden("this needs an admin account".into()))
    }
}

/// Checks `X-Api-Key` against `BACKEND_API_KEY`. Both sides are hashed first so the comparison
/// takes the same time whatever the lengths, then compared in constant time.
pub fn require_front_end(req: &HttpRequest) -> Result<FrontEnd, ApiError> {
    let state = state(req)?;
    let given = req
        .headers()
        .get(API_KEY_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = Sha256::digest(state.config.backend_api_key.expose_secret().as_bytes());
    let ok = !given.is_empty() && bool::from(Sha256::digest(given).ct_eq(&expected));
    if ok {
        Ok(FrontEnd)
    } else {
        Err(ApiError::Unauthorized(
            "a valid X-Api-Key header is required".into(),
        ))
    }
}

macro_rules! async_extractor {
    ($ty:ty, |$req:ident| $body:expr) => {
        impl FromRequest for $ty {
            type Error = actix_web::Error;
            type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let $req = req.clone();
                Box::pin(async move { $body.map_err(actix_web::Error::from) })
            }
        }
    };
}

async_extractor!(CurrentUser, |req| require_user(&req).await);
async_extractor!(Teacher, |req| require_teacher(&req).await.map(Teacher));
async_extractor!(Admin, |req| require_admin(&req).await.map(Admin));
async_extractor!(MaybeUser, |req| authenticate(&req, Freshness::Cached)
    .await
    .map(MaybeUser));

impl FromRequest for FrontEnd {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(require_front_end(req).map_err(Into::into))
    }
}
