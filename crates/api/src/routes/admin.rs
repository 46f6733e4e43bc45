//! `/admin/*`: account management, for admins only.

use crate::{
    auth::Admin,
    dto::{RoleDto, UserDto},
    error::{ApiError, ErrorBody},
    extract::{Json, Query},
    registry::{Audience, Registry},
    state::{db, AppState},
};
use actix_web::web;
use domain::{attempt::Page, rate_limit::RouteClass, user::Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

pub fn routes(r: &mut Registry) {
    r.add(
        Audience::Admin,
        RouteClass::General,
        __path_list_users,
        list_users,
    )
    .add(
        Audience::Admin,
        RouteClass::General,
        __path_set_role,
        set_role,
    );
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 20.
    #[validate(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// Default 0.
    pub offset: Option<u32>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        Ok(Page::new(self.limit, self.offset)?)
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub items: Vec<UserDto>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleChange {
    pub role: RoleDto,
}

#[utoipa::path(get, path = "/admin/users", tag = "admin", params(PageQuery),
    responses(
        (status = 200, description = "One page of accounts and the total count", body = UserPage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<PageQuery>,
) -> Result<web::Json<UserPage>, ApiError> {
    let page = query.0.page()?;
    let (users, total) = db(&state, move |db| {
        Ok::<_, domain::RepoError>((db.list_users(page)?, db.count_users()?))
    })
    .await?;
    Ok(web::Json(UserPage {
        items: users.into_iter().map(UserDto::from).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

#[utoipa::path(patch, path = "/admin/users/{id}/role", tag = "admin", request_body = RoleChange,
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account with its new role", body = UserDto),
        (status = 403, description = "Not an admin, or the admin's own account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody)))]
pub async fn set_role(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: Json<RoleChange>,
) -> Result<web::Json<UserDto>, ApiError> {
    let id = id.into_inner();
    if id == admin.id {
        return Err(ApiError::Forbidden(
            "nobody can change their own role".into(),
        ));
    }
    let role = Role::from(body.0.role);
    let user = db(&state, move |db| {
        db.user_by_id(id)?
            .ok_or(domain::RepoError::NotFound("user"))?;
        db.set_role(id, role, domain::now())
    })
    .await?;
    state.accounts.invalidate(user.id).await;
    tracing::info!(admin_id = %admin.id, user_id = %user.id, role = %user.role, "role changed");
    Ok(web::Json(user.into()))
}
