//! `/me`: the signed-in account.

use crate::{
    auth::CurrentUser,
    dto::UserDto,
    error::{ApiError, ErrorBody},
    registry::{Audience, Registry},
    state::{db, AppState},
};
use actix_web::web;
use domain::rate_limit::RouteClass;

pub fn routes(r: &mut Registry) {
    r.add(Audience::Student, RouteClass::General, __path_me, me);
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
