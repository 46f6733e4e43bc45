//! The learning API: reading, submitting, authoring, analytics and saved sessions.
//!
//! Handlers are thin: they extract, call a `domain::services` function inside `state::db`
//! (so diesel never blocks an async worker), and turn the result into a response DTO.

pub mod analytics;
pub mod attempts;
pub mod authoring;
pub mod cache;
pub mod drafts;
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
    services::submissions::{recover_unfinished, Recovery, RecoveryCutoffs},
};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use std::time::Duration;

/// What the learning routes keep beside the shared state: the content cache and the grading
/// queue (absent when the sandbox was unavailable at start-up).
pub struct Learning {
    pub cache: ContentCache,
    pub queue: Option<GradingQueue>,
    /// Set once the periodic recovery sweep runs, so it is started once.
    sweeping: AtomicBool,
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
            sweeping: AtomicBool::new(false),
        })
    }
}

pub fn learning(state: &AppState) -> &Learning {
    &state.learning
}

/// Start-up recovery, then a periodic sweep (every `WorkerSettings::sweep_every`) so attempts a
/// crashed instance left behind are graded even if that instance never comes back. Only
/// attempts no live instance is grading are taken: `running` ones started longer ago than
/// `WorkerSettings::stale_after` (a live grader gives up before that), and `queued` ones (at
/// start-up all of them; later only those older than `queued_grace`). The worker grades an
/// attempt only after claiming it, so a peer queueing the same attempt cannot grade it twice.
/// Without a grader, attempts stay queued for an instance with one. Returns how many were
/// re-queued and failed by the start-up pass.
pub async fn recover(state: &AppState) -> Result<(usize, usize), ApiError> {
    let Some(queue) = learning(state).queue.clone() else {
        tracing::warn!(
            "no grader: unfinished attempts stay queued until an instance with the sandbox takes them"
        );
        return Ok((0, 0));
    };
    let counts = recover_once(state, &queue, Duration::ZERO).await?;
    if !learning(state).sweeping.swap(true, Ordering::SeqCst) {
        let (state, every) = (state.clone(), queue.settings().sweep_every);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let grace = queue.settings().queued_grace;
                if let Err(e) = recover_once(&state, &queue, grace).await {
                    tracing::warn!(error = %e, "recovery sweep failed; retried at the next tick");
                }
            }
        });
    }
    Ok(counts)
}

/// One periodic sweep now (what the timer runs every `sweep_every`); for tests and operators.
pub async fn sweep_now(state: &AppState) -> Result<(usize, usize), ApiError> {
    let Some(queue) = learning(state).queue.clone() else {
        return Ok((0, 0));
    };
    let grace = queue.settings().queued_grace;
    recover_once(state, &queue, grace).await
}

/// One recovery pass; `queued_grace` spares queued attempts younger than it.
async fn recover_once(
    state: &AppState,
    queue: &GradingQueue,
    queued_grace: Duration,
) -> Result<(usize, usize), ApiError> {
    if let Err(e) = state.ready_grader().await {
        // Re-queued now they would only fail: leave them for the sweep after the sandbox is back.
        tracing::warn!(error = %e, "sandbox unreachable: unfinished attempts stay as they are until it is back");
        return Ok((0, 0));
    }
    let now = domain::now();
    let age = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    let cutoffs = RecoveryCutoffs {
        running_started_before: now - age(queue.settings().stale_after),
        queued_created_before: now - age(queued_grace),
    };
    let plan = db(state, move |s| recover_unfinished(s, s, cutoffs, now)).await?;
    let (mut requeued, mut failed) = (0, 0);
    for step in plan {
        match step {
            Recovery::Requeue {
                attempt_id,
                code,
                task,
            } => {
                if queue
                    .enqueue(GradingJob {
                        attempt_id,
                        code,
                        task,
                    })
                    .await?
                {
                    requeued += 1;
                }
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
        RouteClass::Llm,
        drafts::__path_draft_task,
        drafts::draft_task,
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
