//! The learning API: reading, submitting, authoring, analytics and saved sessions.
//!
//! Handlers are thin: they extract, call a `domain::services` function inside `state::db`
//! (so diesel never blocks an async worker), and turn the result into a response DTO.

pub mod analytics;
pub mod attempts;
pub mod authoring;
pub mod cache;
pub mod dto;
pub mod reading;
pub mod sessions;
pub mod task_data;

use crate::{
    error::ApiError,
    grading_worker::{GradingJob, GradingQueue, WorkerSettings},
    registry::{Audience, Registry},
    state::{db, AppState, Store},
};
use cache::ContentCache;
use domain::{
    grading::Grader,
    rate_limit::RouteClass,
    services::submissions::{recover_unfinished, Recovery},
};
use std::sync::Arc;

/// What the learning routes keep beside the shared state: the content cache and the grading
/// queue (absent when the sandbox was unavailable at start-up).
pub struct Learning {
    pub cache: ContentCache,
    pub queue: Option<GradingQueue>,
}

impl std::fmt::Debug for Learning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learning")
            .field("queue", &self.queue.is_some())
            .finish_non_exhaustive()
    }
}

impl Learning {
    /// Starts the grading worker (when there is a grader) on the current runtime.
    pub fn start(
        db: Arc<dyn Store>,
        grader: Option<Arc<dyn Grader>>,
        settings: WorkerSettings,
    ) -> Arc<Self> {
        let queue = grader.map(|g| GradingQueue::start(db, g, settings));
        Arc::new(Self {
            cache: ContentCache::default(),
            queue,
        })
    }
}

pub fn learning(state: &AppState) -> &Learning {
    &state.learning
}

/// Start-up: attempts a crash left `queued` or `running` are graded again, or finished as
/// `internal_error` when their task is gone. Without a grader they stay queued (and are
/// re-queued at the next start with one); nothing is lost either way. Returns how many were
/// re-queued and failed.
pub async fn recover(state: &AppState) -> Result<(usize, usize), ApiError> {
    let Some(queue) = learning(state).queue.clone() else {
        tracing::warn!(
            "no grader: unfinished attempts stay queued until a start with the sandbox available"
        );
        return Ok((0, 0));
    };
    let plan = db(state, |s| recover_unfinished(s, s, chrono::Utc::now())).await?;
    let (mut requeued, mut failed) = (0, 0);
    for step in plan {
        match step {
            Recovery::Requeue {
                attempt_id,
                code,
                task,
            } => {
                queue
                    .enqueue(GradingJob {
                        attempt_id,
                        code,
                        task,
                    })
                    .await?;
                requeued += 1;
            }
            Recovery::Failed { .. } => failed += 1,
        }
    }
    if requeued + failed > 0 {
        tracing::info!(requeued, failed, "recovered unfinished attempts");
    }
    Ok((requeued, failed))
}

/// Every learning route, with its audience and rate-limit class.
pub fn routes(r: &mut Registry) {
    use Audience::{Student, Teacher};
    use RouteClass::{General, Submit};
    r.add(
        Student,
        General,
        reading::__path_list_topics,
        reading::list_topics,
    )
    .add(
        Student,
        General,
        reading::__path_get_topic,
        reading::get_topic,
    )
    .add(
        Student,
        General,
        reading::__path_get_lesson,
        reading::get_lesson,
    )
    .add(
        Student,
        General,
        reading::__path_get_task,
        reading::get_task,
    )
    .add(Student, Submit, attempts::__path_submit, attempts::submit)
    .add(
        Student,
        Submit,
        attempts::__path_answer_quiz,
        attempts::answer_quiz,
    )
    .add(
        Student,
        General,
        attempts::__path_get_attempt,
        attempts::get_attempt,
    )
    .add(
        Student,
        General,
        attempts::__path_my_attempts,
        attempts::my_attempts,
    )
    .add(
        Student,
        General,
        attempts::__path_my_solutions,
        attempts::my_solutions,
    )
    .add(
        Student,
        General,
        sessions::__path_create_session,
        sessions::create_session,
    )
    .add(
        Student,
        General,
        sessions::__path_get_session,
        sessions::get_session,
    )
    .add(
        Student,
        General,
        sessions::__path_update_session,
        sessions::update_session,
    )
    .add(
        Student,
        General,
        sessions::__path_delete_session,
        sessions::delete_session,
    )
    .add(
        Teacher,
        General,
        authoring::__path_list_topics,
        authoring::list_topics,
    )
    .add(
        Teacher,
        General,
        authoring::__path_create_topic,
        authoring::create_topic,
    )
    .add(
        Teacher,
        General,
        authoring::__path_reorder_topics,
        authoring::reorder_topics,
    )
    .add(
        Teacher,
        General,
        authoring::__path_update_topic,
        authoring::update_topic,
    )
    .add(
        Teacher,
        General,
        authoring::__path_delete_topic,
        authoring::delete_topic,
    )
    .add(
        Teacher,
        General,
        authoring::__path_list_lessons,
        authoring::list_lessons,
    )
    .add(
        Teacher,
        General,
        authoring::__path_create_lesson,
        authoring::create_lesson,
    )
    .add(
        Teacher,
        General,
        authoring::__path_reorder_lessons,
        authoring::reorder_lessons,
    )
    .add(
        Teacher,
        General,
        authoring::__path_update_lesson,
        authoring::update_lesson,
    )
    .add(
        Teacher,
        General,
        authoring::__path_delete_lesson,
        authoring::delete_lesson,
    )
    .add(
        Teacher,
        General,
        authoring::__path_list_tasks,
        authoring::list_tasks,
    )
    .add(
        Teacher,
        Submit,
        authoring::__path_create_task,
        authoring::create_task,
    )
    .add(
        Teacher,
        General,
        authoring::__path_reorder_tasks,
        authoring::reorder_tasks,
    )
    .add(
        Teacher,
        General,
        authoring::__path_get_task,
        authoring::get_task,
    )
    .add(
        Teacher,
        Submit,
        authoring::__path_update_task,
        authoring::update_task,
    )
    .add(
        Teacher,
        General,
        authoring::__path_delete_task,
        authoring::delete_task,
    )
    .add(
        Teacher,
        Submit,
        authoring::__path_publish_task,
        authoring::publish_task,
    )
    .add(
        Teacher,
        Submit,
        authoring::__path_rejudge,
        authoring::rejudge,
    )
    .add(
        Teacher,
        General,
        analytics::__path_task_stats,
        analytics::task_stats,
    )
    .add(
        Teacher,
        General,
        analytics::__path_student_progress,
        analytics::student_progress,
    );
}
