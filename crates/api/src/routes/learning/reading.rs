//! Reading: `GET /topics`, `GET /topics/{id}`, `GET /lessons/{id}`, `GET /tasks/{id}`.
//! Students see published content only; teachers and admins also see drafts (a preview).

use super::dto::{
    LessonPayload, LessonSummaryDto, PublicTaskDto, TaskPageDto, TopicDetailDto, TopicSummaryDto,
};
use super::learning;
use crate::{
    auth::CurrentUser,
    error::{ApiError, ErrorBody},
    state::{db, AppState},
};
use actix_web::{http::header::ContentType, web, HttpResponse};
use domain::services::{
    progress::solved_tasks,
    reading::{lesson_link, public_task, readable_task, topic_with_lessons},
};
use std::collections::HashMap;
use uuid::Uuid;

/// Published topics in order, each with how many of its tasks the caller has solved.
#[utoipa::path(
    get, path = "/topics", tag = "reading",
    responses(
        (status = 200, body = [TopicSummaryDto]),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_topics(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let drafts = user.viewer().sees_drafts();
    let cache = &learning(&state).cache;
    let outline = cache.outline(&state, drafts).await?;
    let index = cache.task_index(&state, drafts).await?;
    let uid = user.id;
    let solved = db(&state, move |s| solved_tasks(s, uid)).await?;
    let totals: HashMap<Uuid, &Vec<Uuid>> = index.iter().map(|(t, ids)| (*t, ids)).collect();
    let items: Vec<TopicSummaryDto> = outline
        .iter()
        .map(|(t, lessons)| {
            let ids = totals.get(&t.id).map(|v| v.as_slice()).unwrap_or_default();
            TopicSummaryDto {
                id: t.id,
                slug: t.slug.to_string(),
                title: t.title.clone(),
                description: t.description.clone(),
                position: t.position,
                published: t.published,
                lesson_count: lessons.len() as u32,
                tasks_total: ids.len() as u32,
                tasks_solved: ids.iter().filter(|id| solved.contains(id)).count() as u32,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// A topic with its lessons in order.
#[utoipa::path(
    get, path = "/topics/{id}", tag = "reading",
    params(("id" = Uuid, Path, description = "Topic id")),
    responses(
        (status = 200, body = TopicDetailDto),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_topic(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let outline = learning(&state)
        .cache
        .outline(&state, user.viewer().sees_drafts())
        .await?;
    let (t, lessons) = topic_with_lessons(&outline, id.into_inner())?;
    Ok(HttpResponse::Ok().json(TopicDetailDto {
        id: t.id,
        slug: t.slug.to_string(),
        title: t.title.clone(),
        description: t.description.clone(),
        position: t.position,
        published: t.published,
        lessons: lessons
            .iter()
            .map(|l| LessonSummaryDto::of(&t, l))
            .collect(),
    }))
}

/// The lesson payload: its body, its tasks (public views) and previous/next links across
/// lesson and topic boundaries.
#[utoipa::path(
    get, path = "/lessons/{id}", tag = "reading",
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses(
        (status = 200, body = LessonPayload),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_lesson(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let drafts = user.viewer().sees_drafts();
    let body = learning(&state)
        .cache
        .lesson_json(&state, drafts, id.into_inner())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

/// A task as a student sees it, with the lesson it belongs to.
#[utoipa::path(
    get, path = "/tasks/{id}", tag = "reading",
    params(("id" = Uuid, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskPageDto),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_task(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let drafts = user.viewer().sees_drafts();
    let outline = learning(&state).cache.outline(&state, drafts).await?;
    let id = id.into_inner();
    let (task, at) = db(&state, move |s| readable_task(s, &outline, drafts, id)).await?;
    Ok(HttpResponse::Ok().json(TaskPageDto {
        task: PublicTaskDto::of_public(&public_task(task)),
        lesson_id: at.lesson.id,
        lesson_name: at.lesson.title.clone(),
        lesson_link: lesson_link(&at.topic, &at.lesson),
        topic_id: at.topic.id,
    }))
}
