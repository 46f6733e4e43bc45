//! Task drafts (teachers): the language model proposes a task of a given kind from a short
//! brief; Campus checks the proposal against the kind's schema (the same check as a teacher's
//! own task) and hands it back unsaved, to be edited and created through `/teacher/...`.

use super::task_data;
use crate::{
    auth::Teacher,
    error::{ApiError, ErrorBody},
    extract::Json,
    state::{db, AppState},
};
use actix_web::web;
use domain::{
    content::{check_text, TextKind},
    llm::{draft_prompt, parse_draft, DraftRequest},
    task::TaskKind,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// Longest answer asked of the model for one draft.
const DRAFT_MAX_TOKENS: u32 = 1500;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DraftTaskRequest {
    /// `code`, `quiz` or `reading`.
    #[schema(value_type = String, example = "code")]
    pub kind: TaskKind,
    /// What the task should be about, in the teacher's words.
    #[validate(length(min = 3, max = 2000))]
    pub brief: String,
    /// The lesson the task is for (its title is given to the model as context).
    pub lesson_id: Option<Uuid>,
}

/// A checked, unsaved task proposal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskDraftDto {
    pub title: String,
    /// Task data of the requested kind, valid for `POST /teacher/lessons/{id}/tasks`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Which model wrote it (`llm:<model>`).
    pub model: String,
}

#[utoipa::path(post, path = "/teacher/task-drafts", tag = "authoring", request_body = DraftTaskRequest,
    responses(
        (status = 200, description = "A draft that passed the kind's schema; nothing is stored", body = TaskDraftDto),
        (status = 422, description = "A bad request field, or an unknown `lessonId`", body = ErrorBody),
        (status = 502, description = "The model's answer is not a valid task; `fields` say why", body = ErrorBody),
        (status = 503, description = "No language model configured, or it is unavailable", body = ErrorBody)))]
pub async fn draft_task(
    state: web::Data<AppState>,
    _teacher: Teacher,
    body: Json<DraftTaskRequest>,
) -> Result<web::Json<TaskDraftDto>, ApiError> {
    let req = body.into_inner();
    check_text("brief", &req.brief, TextKind::MultiLine)
        .map_err(|e| ApiError::Validation(vec![e]))?;
    let model = state.llm.clone().ok_or_else(|| ApiError::Unavailable {
        public: "task drafts need a language model, and none is configured (LLM_BASE_URL)".into(),
        cause: "no language model".into(),
    })?;
    let lesson_title = match req.lesson_id {
        Some(id) => Some(
            db(&state, move |s| s.lesson(id))
                .await?
                .ok_or_else(|| ApiError::invalid("lessonId", "no such lesson"))?
                .title,
        ),
        None => None,
    };
    let prompt = draft_prompt(&DraftRequest {
        kind: req.kind,
        brief: req.brief,
        lesson_title,
    });
    let reply = model.chat(&prompt, DRAFT_MAX_TOKENS).await?;
    let invalid = |fields| ApiError::BadGateway {
        public: "the language model's draft is not a valid task; try again or rephrase the brief"
            .into(),
        cause: "invalid task draft".into(),
        fields,
    };
    let draft = parse_draft(&reply, req.kind).map_err(invalid)?;
    let data = task_data::parse(draft.data, "draft.data").map_err(|e| match e {
        ApiError::Validation(fields) => invalid(fields),
        other => other,
    })?;
    let data = serde_json::to_value(&data).map_err(ApiError::internal)?;
    Ok(web::Json(TaskDraftDto {
        title: draft.title,
        data,
        model: model.name(),
    }))
}
