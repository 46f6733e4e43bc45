//! Saved editor sessions: stored under the id the response returns, readable by the owner only.

use super::dto::{CreateSessionRequest, SessionDto, UpdateSessionRequest};
use crate::{
    auth::CurrentUser,
    error::{ApiError, ErrorBody},
    extract::Json,
    state::{db, AppState},
};
use actix_web::{web, HttpResponse};
use domain::services::sessions;
use uuid::Uuid;

/// Stores an editor state (a JSON object of at most 64 KiB) and returns it with its id.
#[utoipa::path(
    post, path = "/sessions", tag = "sessions",
    request_body = CreateSessionRequest,
    responses(
        (status = 201, body = SessionDto),
        (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: Json<CreateSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let req = body.into_inner();
    let outline = match req.task_id {
        Some(_) => {
            super::learning(&state)
                .cache
                .outline(&state, viewer.sees_drafts())
                .await?
        }
        None => Default::default(),
    };
    let s = db(&state, move |s| {
        sessions::create(
            s,
            s,
            &outline,
            viewer,
            req.task_id,
            req.state,
            domain::now(),
        )
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/sessions/{}", s.id),
        ))
        .json(SessionDto::from(&s)))
}

/// A saved session; 404 for anyone but its owner.
#[utoipa::path(
    get, path = "/sessions/{id}", tag = "sessions",
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, body = SessionDto),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (viewer, id) = (user.viewer(), id.into_inner());
    let s = db(&state, move |s| sessions::get(s, viewer, id)).await?;
    Ok(HttpResponse::Ok().json(SessionDto::from(&s)))
}

/// Replaces a saved session's state.
#[utoipa::path(
    put, path = "/sessions/{id}", tag = "sessions",
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = UpdateSessionRequest,
    responses(
        (status = 200, body = SessionDto),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: Json<UpdateSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (viewer, id, new_state) = (user.viewer(), id.into_inner(), body.into_inner().state);
    let s = db(&state, move |s| {
        sessions::update(s, viewer, id, new_state, domain::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(SessionDto::from(&s)))
}

/// Deletes a saved session.
#[utoipa::path(
    delete, path = "/sessions/{id}", tag = "sessions",
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (viewer, id) = (user.viewer(), id.into_inner());
    db(&state, move |s| sessions::delete(s, viewer, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
