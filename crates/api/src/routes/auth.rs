//! `/auth/*`: register, log in, refresh, log out, and the trusted front end's exchange.

use crate::{
    auth::{flows, FrontEnd},
    dto::AuthResponse,
    error::{ApiError, ErrorBody},
    extract::Json,
    registry::{Audience, Registry},
    state::AppState,
};
use actix_web::{web, HttpRequest, HttpResponse};
use domain::{
    rate_limit::RouteClass,
    user::{Password, Username},
    FieldError,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

pub fn routes(r: &mut Registry) {
    r.add(
        Audience::Public,
        RouteClass::Auth,
        __path_register,
        register,
    )
    .add(Audience::Public, RouteClass::Auth, __path_login, login)
    .add(Audience::Public, RouteClass::Auth, __path_refresh, refresh)
    .add(Audience::Public, RouteClass::Auth, __path_logout, logout)
    .add(
        Audience::ApiKey,
        RouteClass::Auth,
        __path_exchange,
        exchange,
    );
}

// Request types hold secrets in `SecretString` and derive no `Debug`, so they cannot be logged.

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Credentials {
    /// 3 to 32 of `A-Z a-z 0-9 _ . -`, starting with a letter or digit; unique ignoring case.
    #[schema(example = "ada")]
    pub username: String,
    /// 8 to 256 characters.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    pub refresh_token: SecretString,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExchangeRequest {
    /// The OAuth provider, e.g. `github`: 1 to 32 of `a-z 0-9 . _ -`.
    #[schema(example = "github")]
    pub provider: String,
    /// The provider's stable user id. Campus stores only SHA-256 of `provider:subject`.
    #[schema(value_type = String)]
    pub subject: SecretString,
    /// Preferred username for a new account; a suffix is added if it is taken.
    pub username: Option<String>,
}

#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Credentials,
    responses(
        (status = 201, description = "Account created and signed in", body = AuthResponse),
        (status = 409, description = "Username taken (ignoring case)", body = ErrorBody),
        (status = 422, description = "Invalid username or password", body = ErrorBody)))]
pub async fn register(
    state: web::Data<AppState>,
    body: Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = Username::parse(&body.username);
    let password = Password::parse(body.password.expose_secret().to_string());
    let (username, password) = match (username, password) {
        (Ok(u), Ok(p)) => (u, p),
        (u, p) => {
            return Err(ApiError::Validation(
                u.err().into_iter().chain(p.err()).collect(),
            ))
        }
    };
    let session = flows::register(&state, username, password).await?;
    Ok(HttpResponse::Created().json(AuthResponse::from(session)))
}

#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        (status = 401, description = "Wrong username or password (the same answer for both)", body = ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    crate::rate_limit::login::check_username(&state, &req, &body.username).await?;
    if body.password.expose_secret().chars().count() > Password::MAX {
        return Err(FieldError::new("password", "must be at most 256 characters long").into());
    }
    let session = flows::login(
        &state,
        &body.username,
        body.password.expose_secret().to_string(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(AuthResponse::from(session)))
}

#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the presented refresh token is now used up", body = AuthResponse),
        (status = 401, description = "Unknown, expired, revoked or reused token (reuse ends the whole session)", body = ErrorBody)))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let session = flows::refresh(&state, body.0.refresh_token.expose_secret()).await?;
    Ok(HttpResponse::Ok().json(AuthResponse::from(session)))
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "The session of this refresh token is ended (also when it was unknown)")))]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    flows::logout(&state, body.0.refresh_token.expose_secret()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/auth/exchange", tag = "auth", request_body = ExchangeRequest,
    params(("X-Api-Key" = String, Header, description = "BACKEND_API_KEY")),
    responses(
        (status = 200, description = "Signed in to an existing account", body = AuthResponse),
        (status = 201, description = "A student account was created and signed in", body = AuthResponse),
        (status = 401, description = "Missing or wrong X-Api-Key", body = ErrorBody),
        (status = 422, description = "Invalid provider, subject or username", body = ErrorBody)))]
pub async fn exchange(
    state: web::Data<AppState>,
    _front_end: FrontEnd,
    body: Json<ExchangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = check_exchange(&body)?;
    let (session, created) = flows::exchange(
        &state,
        &body.provider,
        body.subject.expose_secret(),
        username,
    )
    .await?;
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(AuthResponse::from(session)))
}

fn check_exchange(body: &ExchangeRequest) -> Result<Option<Username>, ApiError> {
    let mut errors = Vec::new();
    let p = &body.provider;
    let provider_ok = (1..=32).contains(&p.len())
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && p.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !provider_ok {
        errors.push(FieldError::new(
            "provider",
            "must be 1 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
        ));
    }
    let s = body.subject.expose_secret();
    if s.is_empty() || s.len() > 256 || s.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "subject",
            "must be 1 to 256 characters without control characters",
        ));
    }
    let username = match body.username.as_deref().map(Username::parse) {
        None => None,
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
    };
    if errors.is_empty() {
        Ok(username)
    } else {
        Err(ApiError::Validation(errors))
    }
}
