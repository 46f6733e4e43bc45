//! Submitting and reading attempts.

use super::dto::{
    AttemptDetailDto, AttemptDto, AttemptPage, FeedbackDto, MyAttemptsQuery, PageQuery,
    QuizAnswersRequest, SolutionDto, SolutionPage, SubmissionAccepted, SubmitCodeRequest,
    WaitQuery,
};
use super::learning;
use crate::{
    auth::CurrentUser,
    error::{ApiError, ErrorBody, ErrorDetail},
    extract::{Json, Query},
    grading_worker::GradingJob,
    state::{db, AppState},
};
use actix_web::{web, HttpResponse};
use domain::{
    attempt::{AttemptStatus, Page},
    services::submissions::{readable_attempt, submit_code, submit_quiz, CodeSubmission},
    DomainError,
};
use std::time::Duration;
use uuid::Uuid;

/// Submits a program for a code task. The attempt is stored (`queued`) before this answers;
/// grading runs in the background. 503 (with nothing stored) when the grading queue is full or
/// the sandbox is down; 429 (`Retry-After`, nothing stored) when the caller already has
/// `SUBMIT_MAX_IN_FLIGHT` submissions queued or running.
#[utoipa::path(
    post, path = "/tasks/{id}/submissions", tag = "attempts",
    params(("id" = Uuid, Path, description = "Task id")),
    request_body = SubmitCodeRequest,
    responses(
        (status = 202, body = SubmissionAccepted),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: Json<SubmitCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let l = learning(&state);
    let queue = l
        .queue
        .as_ref()
        .ok_or_else(|| state.grader().err().unwrap_or_else(no_worker))?;
    state.ready_grader().await?;
    let viewer = user.viewer();
    let outline = l.cache.outline(&state, viewer.sees_drafts()).await?;
    // The slot comes first: if there is no room, nothing is stored and the client may retry.
    let slot = queue.reserve().map_err(DomainError::from)?;
    let (task_id, code) = (id.into_inner(), body.into_inner().code);
    let cap = state.config.submit_max_in_flight;
    let submitted = db(&state, move |s| {
        submit_code(s, s, &outline, viewer, task_id, &code, cap, domain::now())
    })
    .await?;
    let (attempt, task) = match submitted {
        CodeSubmission::Queued(attempt, task) => (attempt, task),
        CodeSubmission::InFlightCap { limit } => return Ok(in_flight_cap(limit)),
    };
    let domain::attempt::AttemptInput::Code { code } = &attempt.input else {
        return Err(ApiError::internal(
            "a code submission stored a non-code input",
        ));
    };
    slot.send(GradingJob {
        attempt_id: attempt.id,
        code: code.clone(),
        task,
    });
    Ok(HttpResponse::Accepted()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/attempts/{}", attempt.id),
        ))
        .json(SubmissionAccepted {
            attempt_id: attempt.id,
            status: attempt.status.to_string(),
        }))
}

/// 429 for a student who already has `limit` submissions waiting or running.
fn in_flight_cap(limit: u32) -> HttpResponse {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "rate_limited".into(),
            message: format!(
                "you already have {limit} submissions queued or running (SUBMIT_MAX_IN_FLIGHT = \
                 {limit}); nothing was stored, submit again when one is graded"
            ),
            fields: Vec::new(),
        },
    };
    HttpResponse::TooManyRequests()
        .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
        .json(body)
}

fn no_worker() -> ApiError {
    ApiError::Unavailable {
        public: "code grading is unavailable right now".into(),
        cause: "no grading worker".into(),
    }
}

/// Answers a quiz; graded at once on the server.
#[utoipa::path(
    post, path = "/tasks/{id}/quiz-answers", tag = "attempts",
    params(("id" = Uuid, Path, description = "Task id")),
    request_body = QuizAnswersRequest,
    responses(
        (status = 200, body = AttemptDto),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn answer_quiz(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: Json<QuizAnswersRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let outline = learning(&state)
        .cache
        .outline(&state, viewer.sees_drafts())
        .await?;
    let (task_id, answers) = (id.into_inner(), body.into_inner().answers);
    let attempt = db(&state, move |s| {
        submit_quiz(s, s, &outline, viewer, task_id, answers, domain::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(AttemptDto::from(&attempt)))
}

/// One attempt, for its owner or a teacher. `?wait=N` holds the answer up to N seconds
/// (at most 30) until the attempt is done.
#[utoipa::path(
    get, path = "/attempts/{id}", tag = "attempts",
    params(("id" = Uuid, Path, description = "Attempt id"), WaitQuery),
    responses(
        (status = 200, body = AttemptDetailDto),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_attempt(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    query: Query<WaitQuery>,
) -> Result<HttpResponse, ApiError> {
    let (viewer, id) = (user.viewer(), id.into_inner());
    let wait = Duration::from_secs(u64::from(query.into_inner().wait.unwrap_or(0).min(30)));
    let mut finished = learning(&state).queue.as_ref().map(|q| q.subscribe());
    let mut attempt = db(&state, move |s| readable_attempt(s, viewer, id)).await?;
    let deadline = tokio::time::Instant::now() + wait;
    while attempt.status != AttemptStatus::Done && tokio::time::Instant::now() < deadline {
        // Woken by this process's worker; polled every second for attempts graded elsewhere.
        let tick = tokio::time::sleep(Duration::from_secs(1));
        match finished.as_mut() {
            Some(rx) => {
                tokio::select! {
                    _ = tick => {}
                    _ = tokio::time::sleep_until(deadline) => {}
                    got = rx.recv() => match got {
                        Ok(done) if done != id => continue,
                        _ => {}
                    },
                }
            }
            None => {
                tokio::select! {
                    _ = tick => {}
                    _ = tokio::time::sleep_until(deadline) => {}
                }
            }
        }
        attempt = db(&state, move |s| readable_attempt(s, viewer, id)).await?;
    }
    let feedback = db(&state, move |s| s.feedback_of_attempt(id)).await?;
    Ok(HttpResponse::Ok().json(AttemptDetailDto {
        attempt: AttemptDto::from(&attempt),
        feedback: feedback.iter().map(FeedbackDto::from).collect(),
    }))
}

/// The caller's attempts, newest first.
#[utoipa::path(
    get, path = "/me/attempts", tag = "attempts",
    params(MyAttemptsQuery),
    responses(
        (status = 200, body = AttemptPage),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn my_attempts(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<MyAttemptsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = Page::new(q.limit, q.offset)?;
    let (uid, task) = (user.id, q.task_id);
    let items = db(&state, move |s| s.attempts_of_user(uid, task, page)).await?;
    Ok(HttpResponse::Ok().json(AttemptPage {
        items: items.iter().map(AttemptDto::from).collect(),
        limit: page.limit,
        offset: page.offset,
    }))
}

/// The tasks the caller has solved, each with its first accepted attempt.
#[utoipa::path(
    get, path = "/me/solutions", tag = "attempts",
    params(PageQuery),
    responses(
        (status = 200, body = SolutionPage),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn my_solutions(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = Page::new(q.limit, q.offset)?;
    let uid = user.id;
    let items = db(&state, move |s| s.solutions_of_user(uid, page)).await?;
    Ok(HttpResponse::Ok().json(SolutionPage {
        items: items.iter().map(SolutionDto::from).collect(),
        limit: page.limit,
        offset: page.offset,
    }))
}
