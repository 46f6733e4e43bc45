//! Authoring (teachers and admins): topics, lessons and tasks under `/teacher/...`.
//!
//! Task data is checked against its kind with field paths (`data.tests[0].weight`). Publishing
//! a code task that carries a reference solution first runs that solution against the task's
//! own tests in the sandbox; only `accepted` lets the write through.

use super::{dto::DeleteQuery, learning, task_data};
use crate::{
    auth::Teacher,
    error::{ApiError, ErrorBody},
    extract::{Json, Query},
    grading_worker::GradingJob,
    state::{db, AppState},
};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::{
    content::{Lesson, LessonKind, Topic},
    ports::ContentItem,
    services::{
        authoring::{
            accept_reference_run, changed_task, check_reorder, content_patch, delete_item,
            new_lesson, new_task, new_topic, publish_check, tests_changed, ContentChanges,
            LessonInput, TaskChanges, TaskInput, TopicInput,
        },
        submissions::rejudge_candidates,
    },
    task::Task,
    DomainError, Timestamp,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

// ---------- request and response types ----------

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTopicRequest {
    /// Derived from the title when absent.
    #[validate(length(min = 1, max = 80))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    #[validate(length(max = 10000))]
    pub description: Option<String>,
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTopicRequest {
    #[validate(length(min = 1, max = 80))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    pub description: Option<String>,
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLessonRequest {
    #[validate(length(min = 1, max = 80))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    /// `article` (default), `video` or `practice`.
    #[schema(value_type = Option<String>)]
    pub lesson_type: Option<LessonKind>,
    /// Markdown.
    pub body: Option<String>,
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLessonRequest {
    #[validate(length(min = 1, max = 80))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub title: Option<String>,
    #[schema(value_type = Option<String>)]
    pub lesson_type: Option<LessonKind>,
    pub body: Option<String>,
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTaskRequest {
    #[validate(length(min = 1, max = 80))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    /// The task's content, tagged by `kind` (`reading`, `quiz`, `code`); see `docs/course-format.md`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTaskRequest {
    #[validate(length(min = 1, max = 80))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub title: Option<String>,
    /// Replaces the whole task data.
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    pub published: Option<bool>,
    /// Grade every finished attempt again when the tests change.
    pub rejudge: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReorderRequest {
    /// Every current item, each once, in the new order.
    #[validate(length(max = 10000))]
    pub ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub position: i32,
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Topic> for TopicDto {
    fn from(t: &Topic) -> Self {
        Self {
            id: t.id,
            slug: t.slug.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            position: t.position,
            published: t.published,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonDto {
    pub id: Uuid,
    pub topic_id: Uuid,
    pub slug: String,
    pub title: String,
    pub lesson_type: String,
    pub body: String,
    pub position: i32,
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Lesson> for LessonDto {
    fn from(l: &Lesson) -> Self {
        Self {
            id: l.id,
            topic_id: l.topic_id,
            slug: l.slug.to_string(),
            title: l.title.clone(),
            lesson_type: l.kind.to_string(),
            body: l.body.clone(),
            position: l.position,
            published: l.published,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// A task with everything in it (hidden tests, reference solution, quiz answers): teachers only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskDto {
    pub id: Uuid,
    pub lesson_id: Uuid,
    pub slug: String,
    pub title: String,
    pub kind: String,
    pub position: i32,
    pub published: bool,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Task> for TaskDto {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id,
            lesson_id: t.lesson_id,
            slug: t.slug.to_string(),
            title: t.title.clone(),
            kind: t.kind().to_string(),
            position: t.position,
            published: t.published,
            data: serde_json::to_value(&t.data).unwrap_or(serde_json::Value::Null),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejudgeDto {
    /// Attempts queued for grading again.
    pub queued: u32,
}

fn now() -> Timestamp {
    domain::now()
}

/// Deletes `item` (refused while students' attempts are under it, unless `force`) and answers 204.
async fn delete_answer(
    state: &AppState,
    item: ContentItem,
    query: DeleteQuery,
) -> Result<HttpResponse, ApiError> {
    let force = query.force.unwrap_or(false);
    db(state, move |s| delete_item(s, item, force)).await?;
    changed(state);
    Ok(HttpResponse::NoContent().finish())
}

fn changed(state: &AppState) {
    learning(state).cache.invalidate();
}

// ---------- topics ----------

/// Every topic, drafts included.
#[utoipa::path(get, path = "/teacher/topics", tag = "authoring",
    responses((status = 200, body = [TopicDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_topics(
    state: web::Data<AppState>,
    _t: Teacher,
) -> Result<HttpResponse, ApiError> {
    let topics = db(&state, |s| s.list_topics(true)).await?;
    Ok(HttpResponse::Ok().json(topics.iter().map(TopicDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(post, path = "/teacher/topics", tag = "authoring", request_body = CreateTopicRequest,
    responses((status = 201, body = TopicDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_topic(
    state: web::Data<AppState>,
    _t: Teacher,
    body: Json<CreateTopicRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let topic = new_topic(
        TopicInput {
            slug: r.slug,
            title: r.title,
            description: r.description,
            published: r.published,
        },
        now(),
    )?;
    let stored = db(&state, move |s| s.insert_topic(&topic))
        .await
        .map_err(slug_field)?;
    changed(&state);
    Ok(HttpResponse::Created().json(TopicDto::from(&stored)))
}

#[utoipa::path(patch, path = "/teacher/topics/{id}", tag = "authoring", request_body = UpdateTopicRequest,
    params(("id" = Uuid, Path, description = "Topic id")),
    responses((status = 200, body = TopicDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_topic(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<UpdateTopicRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let patch = content_patch(ContentChanges {
        slug: r.slug,
        title: r.title,
        description: r.description,
        published: r.published,
        ..Default::default()
    })?;
    let id = id.into_inner();
    let topic = db(&state, move |s| s.update_topic(id, &patch, now()))
        .await
        .map_err(slug_field)?;
    changed(&state);
    Ok(HttpResponse::Ok().json(TopicDto::from(&topic)))
}

/// Deletes a topic with its lessons and tasks. Refused (409) when students' attempts are under
/// it, unless `?force=true`.
#[utoipa::path(delete, path = "/teacher/topics/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "Topic id"), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Students' attempts would be deleted with it; nothing was deleted (repeat with `?force=true`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_topic(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    query: Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    delete_answer(
        &state,
        ContentItem::Topic(id.into_inner()),
        query.into_inner(),
    )
    .await
}

#[utoipa::path(put, path = "/teacher/topics/order", tag = "authoring", request_body = ReorderRequest,
    responses((status = 204, description = "Reordered"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reorder_topics(
    state: web::Data<AppState>,
    _t: Teacher,
    body: Json<ReorderRequest>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.into_inner().ids;
    db(&state, move |s| {
        let current: Vec<Uuid> = s.list_topics(true)?.iter().map(|t| t.id).collect();
        check_reorder(&current, &ids)?;
        Ok::<_, DomainError>(s.reorder_topics(&ids)?)
    })
    .await?;
    changed(&state);
    Ok(HttpResponse::NoContent().finish())
}

// ---------- lessons ----------

/// A topic's lessons, drafts included.
#[utoipa::path(get, path = "/teacher/topics/{id}/lessons", tag = "authoring",
    params(("id" = Uuid, Path, description = "Topic id")),
    responses((status = 200, body = [LessonDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_lessons(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lessons = db(&state, move |s| {
        s.topic(id)?.ok_or(DomainError::NotFound("topic"))?;
        Ok::<_, DomainError>(s.lessons(id, true)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(lessons.iter().map(LessonDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(post, path = "/teacher/topics/{id}/lessons", tag = "authoring", request_body = CreateLessonRequest,
    params(("id" = Uuid, Path, description = "Topic id")),
    responses((status = 201, body = LessonDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_lesson(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<CreateLessonRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let topic_id = id.into_inner();
    let lesson = new_lesson(
        topic_id,
        LessonInput {
            slug: r.slug,
            title: r.title,
            kind: r.lesson_type,
            body: r.body,
            published: r.published,
        },
        now(),
    )?;
    let stored = db(&state, move |s| {
        s.topic(topic_id)?.ok_or(DomainError::NotFound("topic"))?;
        Ok::<_, DomainError>(s.insert_lesson(&lesson)?)
    })
    .await
    .map_err(slug_field)?;
    changed(&state);
    Ok(HttpResponse::Created().json(LessonDto::from(&stored)))
}

#[utoipa::path(patch, path = "/teacher/lessons/{id}", tag = "authoring", request_body = UpdateLessonRequest,
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses((status = 200, body = LessonDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_lesson(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<UpdateLessonRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let patch = content_patch(ContentChanges {
        slug: r.slug,
        title: r.title,
        body: r.body,
        kind: r.lesson_type,
        published: r.published,
        ..Default::default()
    })?;
    let id = id.into_inner();
    let lesson = db(&state, move |s| s.update_lesson(id, &patch, now()))
        .await
        .map_err(slug_field)?;
    changed(&state);
    Ok(HttpResponse::Ok().json(LessonDto::from(&lesson)))
}

/// Deletes a lesson with its tasks. Refused (409) when students' attempts are under it, unless
/// `?force=true`.
#[utoipa::path(delete, path = "/teacher/lessons/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "Lesson id"), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Students' attempts would be deleted with it; nothing was deleted (repeat with `?force=true`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_lesson(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    query: Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    delete_answer(
        &state,
        ContentItem::Lesson(id.into_inner()),
        query.into_inner(),
    )
    .await
}

#[utoipa::path(put, path = "/teacher/topics/{id}/lessons/order", tag = "authoring", request_body = ReorderRequest,
    params(("id" = Uuid, Path, description = "Topic id")),
    responses((status = 204, description = "Reordered"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reorder_lessons(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<ReorderRequest>,
) -> Result<HttpResponse, ApiError> {
    let (topic_id, ids) = (id.into_inner(), body.into_inner().ids);
    db(&state, move |s| {
        s.topic(topic_id)?.ok_or(DomainError::NotFound("topic"))?;
        let current: Vec<Uuid> = s.lessons(topic_id, true)?.iter().map(|l| l.id).collect();
        check_reorder(&current, &ids)?;
        Ok::<_, DomainError>(s.reorder_lessons(topic_id, &ids)?)
    })
    .await?;
    changed(&state);
    Ok(HttpResponse::NoContent().finish())
}

// ---------- tasks ----------

/// A lesson's tasks in full (hidden tests, reference solutions, quiz answers), drafts included.
#[utoipa::path(get, path = "/teacher/lessons/{id}/tasks", tag = "authoring",
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses((status = 200, body = [TaskDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tasks(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let tasks = db(&state, move |s| {
        s.lesson(id)?.ok_or(DomainError::NotFound("lesson"))?;
        Ok::<_, DomainError>(s.tasks(id, true)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(tasks.iter().map(TaskDto::from).collect::<Vec<_>>()))
}

/// Runs the reference solution when this write needs it (see `publish_check`).
async fn reference_gate(
    state: &AppState,
    before: Option<&Task>,
    after: &Task,
) -> Result<(), ApiError> {
    let Some((code, task)) = publish_check(before, after) else {
        return Ok(());
    };
    let grader = state.ready_grader().await?;
    let report = grader.grade(&code, &task).await?;
    Ok(accept_reference_run(&report)?)
}

/// Creates a task; with `published: true`, a code task's reference solution must pass first.
#[utoipa::path(post, path = "/teacher/lessons/{id}/tasks", tag = "authoring", request_body = CreateTaskRequest,
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses((status = 201, body = TaskDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_task(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<CreateTaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let lesson_id = id.into_inner();
    let data = task_data::parse(r.data, "data")?;
    let task = new_task(
        lesson_id,
        TaskInput {
            slug: r.slug,
            title: r.title,
            data,
            published: r.published,
        },
        now(),
    )?;
    db(&state, move |s| {
        s.lesson(lesson_id)?
            .ok_or(DomainError::NotFound("lesson"))
            .map(drop)
    })
    .await?;
    reference_gate(&state, None, &task).await?;
    let stored = db(&state, move |s| s.insert_task(&task))
        .await
        .map_err(slug_field)?;
    changed(&state);
    Ok(HttpResponse::Created().json(TaskDto::from(&stored)))
}

/// A task in full.
#[utoipa::path(get, path = "/teacher/tasks/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, body = TaskDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_task(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let task = db(&state, move |s| {
        s.task(id)?.ok_or(DomainError::NotFound("task"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(TaskDto::from(&task)))
}

/// Updates a task. `rejudge: true` grades its finished attempts again when the tests changed.
#[utoipa::path(patch, path = "/teacher/tasks/{id}", tag = "authoring", request_body = UpdateTaskRequest,
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, body = TaskDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_task(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<UpdateTaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let data = r.data.map(|d| task_data::parse(d, "data")).transpose()?;
    let id = id.into_inner();
    let before = db(&state, move |s| {
        s.task(id)?.ok_or(DomainError::NotFound("task"))
    })
    .await?;
    let after = changed_task(
        &before,
        TaskChanges {
            slug: r.slug,
            title: r.title,
            data,
            published: r.published,
        },
        now(),
    )?;
    reference_gate(&state, Some(&before), &after).await?;
    let retest = tests_changed(&before, &after);
    let stored = db(&state, move |s| s.update_task(&after))
        .await
        .map_err(slug_field)?;
    changed(&state);
    if retest && r.rejudge == Some(true) {
        rejudge_all(&state, &stored).await?;
    }
    Ok(HttpResponse::Ok().json(TaskDto::from(&stored)))
}

/// Publishes a task (after its reference solution passes, for code tasks that have one).
#[utoipa::path(post, path = "/teacher/tasks/{id}/publish", tag = "authoring",
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, body = TaskDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish_task(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let before = db(&state, move |s| {
        s.task(id)?.ok_or(DomainError::NotFound("task"))
    })
    .await?;
    let after = changed_task(
        &before,
        TaskChanges {
            published: Some(true),
            ..Default::default()
        },
        now(),
    )?;
    reference_gate(&state, Some(&before), &after).await?;
    let stored = db(&state, move |s| s.update_task(&after))
        .await
        .map_err(slug_field)?;
    changed(&state);
    Ok(HttpResponse::Ok().json(TaskDto::from(&stored)))
}

/// Deletes a task. Refused (409) when students have attempts on it, unless `?force=true`.
#[utoipa::path(delete, path = "/teacher/tasks/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "Task id"), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Students' attempts would be deleted with it; nothing was deleted (repeat with `?force=true`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_task(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    query: Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    delete_answer(
        &state,
        ContentItem::Task(id.into_inner()),
        query.into_inner(),
    )
    .await
}

#[utoipa::path(put, path = "/teacher/lessons/{id}/tasks/order", tag = "authoring", request_body = ReorderRequest,
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses((status = 204, description = "Reordered"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reorder_tasks(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    body: Json<ReorderRequest>,
) -> Result<HttpResponse, ApiError> {
    let (lesson_id, ids) = (id.into_inner(), body.into_inner().ids);
    db(&state, move |s| {
        s.lesson(lesson_id)?
            .ok_or(DomainError::NotFound("lesson"))?;
        let current: Vec<Uuid> = s.tasks(lesson_id, true)?.iter().map(|t| t.id).collect();
        check_reorder(&current, &ids)?;
        Ok::<_, DomainError>(s.reorder_tasks(lesson_id, &ids)?)
    })
    .await?;
    changed(&state);
    Ok(HttpResponse::NoContent().finish())
}

/// Grades every finished code attempt of the task again against its current tests.
#[utoipa::path(post, path = "/teacher/tasks/{id}/rejudge", tag = "authoring",
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 202, body = RejudgeDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rejudge(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let task = db(&state, move |s| {
        s.task(id)?.ok_or(DomainError::NotFound("task"))
    })
    .await?;
    let queued = rejudge_all(&state, &task).await?;
    Ok(HttpResponse::Accepted().json(RejudgeDto { queued }))
}

async fn rejudge_all(state: &AppState, task: &Task) -> Result<u32, ApiError> {
    let domain::task::TaskData::Code(code_task) = &task.data else {
        return Ok(0);
    };
    let queue = learning(state)
        .queue
        .clone()
        .ok_or_else(|| match state.grader() {
            Err(e) => e,
            Ok(_) => ApiError::internal("no grading worker"),
        })?;
    state.ready_grader().await?;
    let tid = task.id;
    let attempts = db(state, move |s| s.attempts_of_task(tid)).await?;
    let mut queued = 0;
    for (attempt_id, code) in rejudge_candidates(task, &attempts) {
        // Back to queued only if still done (a concurrent rejudge may have taken it already).
        if !db(state, move |s| s.requeue_finished_attempt(attempt_id)).await? {
            continue;
        }
        queue
            .enqueue(GradingJob {
                attempt_id,
                code,
                task: code_task.clone(),
            })
            .await?;
        queued += 1;
    }
    Ok(queued)
}

/// A unique-slug conflict names its field (`fields: [{"field": "slug"}]`), like a 422 would.
fn slug_field(e: ApiError) -> ApiError {
    match e {
        ApiError::Conflict { message, fields } if fields.is_empty() && message.contains("slug") => {
            ApiError::Conflict {
                fields: vec![domain::FieldError::new("slug", message.clone())],
                message,
            }
        }
        other => other,
    }
}
