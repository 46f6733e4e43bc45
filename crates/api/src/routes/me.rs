//! `/me`: the signed-in account.

use crate::{
    auth::CurrentUser,
    dto::{LinkCodeDto, UserDto},
    error::{ApiError, ErrorBody},
    registry::{Audience, Registry},
    state::{db, AppState},
};
use actix_web::{web, HttpResponse};
use domain::{rate_limit::RouteClass, services::telegram::issue_link_code};

pub fn routes(r: &mut Registry) {
    r.add(Audience::Student, RouteClass::General, __path_me, me);
    r.add(
        Audience::Student,
        RouteClass::Link,
        __path_create_link_code,
        create_link_code,
    );
    r.add(
        Audience::Student,
        RouteClass::General,
        __path_unlink_telegram,
        unlink_telegram,
    );
}

#[utoipa::path(get, path = "/me", tag = "accounts",
    responses(
        (status = 200, description = "The signed-in account", body = UserDto),
        (status = 401, description = "No valid access token", body = ErrorBody)))]
pub async fn me(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<UserDto>, ApiError> {
    let found = db(&state, move |db| db.user_by_id(user.id)).await?;
    let found =
        found.ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    Ok(web::Json(found.into()))
}

/// A one-time code that links a Telegram account to this account: send it to the Campus bot
/// (`/link CODE`, or open `deepLink`). It works once, for 10 minutes; asking again gives a new
/// code and leaves earlier ones valid until they expire.
#[utoipa::path(post, path = "/me/telegram/link-code", tag = "accounts",
    responses(
        (status = 201, description = "A fresh code, shown once", body = LinkCodeDto),
        (status = 401, description = "No valid access token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_link_code(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let issued = db(&state, move |db| {
        issue_link_code(db, user.id, domain::now())
    })
    .await?;
    let deep_link = state
        .config
        .telegram_bot_username
        .as_ref()
        .map(|bot| format!("https://t.me/{bot}?start={}", issued.code));
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(LinkCodeDto {
            code: issued.code,
            expires_at: issued.expires_at,
            deep_link,
        }))
}

/// Unlinks the Telegram account linked to this account, if any (the bot then treats it as a
/// stranger). Answers 204 either way.
#[utoipa::path(delete, path = "/me/telegram", tag = "accounts",
    responses(
        (status = 204, description = "No Telegram account is linked now"),
        (status = 401, description = "No valid access token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn unlink_telegram(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    db(&state, move |db| {
        db.set_telegram_id(user.id, None, domain::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
