//! Grades code attempts off the request path.
//!
//! A submission is stored (`queued`) before it gets here; the worker marks it `running`, runs
//! it through the [`Grader`] (a sandbox container), and stores the report. The queue is
//! bounded: a request first reserves a slot ([`GradingQueue::reserve`]) and only then stores
//! its attempt, so a full queue answers 503 with nothing stored, and a stored attempt always has
//! a job behind it. A small circuit breaker does the same while the sandbox is down (Docker
//! stopped, image missing): submissions get 503 instead of piling up behind a dead grader.
//! Attempts already queued when the sandbox goes down are retried a few times, then finished
//! as `internal_error`, so nothing stays `queued` or `running` for ever.
//!
//! Several instances share one database, so grading is claim-based: a job is graded only after
//! [`AttemptRepo::claim_attempt`] moved its attempt from `queued` to `running` (one conditional
//! update; exactly one instance wins). Recovery ([`domain::services::submissions::recover_unfinished`],
//! at start-up and every [`WorkerSettings::sweep_every`]) re-queues `running` attempts only when
//! they are older than [`WorkerSettings::stale_after`], which is longer than this worker ever
//! holds a claim (every grading is cut off before it), so a live peer's work is never taken.
//!
//! Every database call runs in `spawn_blocking`. Student code never reaches a log line.

use domain::{
    grading::{GradeError, GradeReport, Grader},
    ports::AttemptRepo,
    task::CodeTask,
    DomainError,
};
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{broadcast, mpsc, Semaphore};
use uuid::Uuid;

/// One attempt to grade.
pub struct GradingJob {
    pub attempt_id: Uuid,
    pub code: String,
    pub task: CodeTask,
}

impl std::fmt::Debug for GradingJob {
    // The code is the student's: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradingJob")
            .field("attempt_id", &self.attempt_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Gradings in flight at once (match the sandbox's runner count, so it rarely says busy).
    pub concurrency: usize,
    /// Jobs waiting for a runner; past this, submissions get 503.
    pub queue: usize,
    /// How long submissions are refused after the sandbox reported itself unavailable.
    pub breaker_cooldown: Duration,
    /// Tries of one job against an unavailable sandbox before it ends as `internal_error`.
    pub unavailable_retries: u32,
    /// Longest a job keeps retrying while the sandbox says it is busy.
    pub busy_patience: Duration,
    /// Upper bound on one grading call, on top of the sandbox's own time limits.
    pub grade_timeout: Duration,
    /// A `running` attempt started longer ago than this has no live grader: recovery re-queues
    /// it. This worker gives up on a grading (`internal_error`) a minute before, so it never
    /// holds a claim this long. Default: the sandbox's longest run plus [`STALE_MARGIN`].
    pub stale_after: Duration,
    /// How often recovery sweeps for attempts a crashed peer left behind.
    pub sweep_every: Duration,
    /// Queued attempts younger than this are left to the instance that queued them by the
    /// periodic sweep (the start-up sweep takes every queued attempt).
    pub queued_grace: Duration,
}

/// The sandbox kills a run after this long (`sandbox::SandboxConfig::max_run_time`'s default).
pub const SANDBOX_MAX_RUN_TIME: Duration = Duration::from_secs(120);
/// Added to the longest run before a `running` attempt counts as abandoned: covers retries while
/// the sandbox is busy, a slow database and clock skew between instances.
pub const STALE_MARGIN: Duration = Duration::from_secs(600);

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 2,
            queue: 1024,
            breaker_cooldown: Duration::from_secs(5),
            unavailable_retries: 3,
            busy_patience: Duration::from_secs(300),
            grade_timeout: Duration::from_secs(600),
            stale_after: SANDBOX_MAX_RUN_TIME + STALE_MARGIN,
            sweep_every: Duration::from_secs(60),
            queued_grace: Duration::from_secs(60),
        }
    }
}

/// Why a submission cannot be queued now. Both mean "nothing was stored; try again".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueRefusal {
    Full,
    SandboxDown,
}

impl From<QueueRefusal> for DomainError {
    fn from(r: QueueRefusal) -> Self {
        match r {
            QueueRefusal::Full => DomainError::Busy(
                "every grader is busy; nothing was stored, try again shortly".into(),
            ),
            QueueRefusal::SandboxDown => DomainError::Unavailable(
                "code grading is unavailable right now; nothing was stored, try again later".into(),
            ),
        }
    }
}

#[derive(Default)]
struct Breaker {
    open_until: Mutex<Option<Instant>>,
}

impl Breaker {
    fn is_open(&self) -> bool {
        let guard = self.open_until.lock().unwrap_or_else(|p| p.into_inner());
        guard.is_some_and(|t| Instant::now() < t)
    }
    fn trip(&self, cooldown: Duration) {
        *self.open_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + cooldown);
    }
    fn close(&self) {
        *self.open_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Attempts this instance has queued or is grading, so a recovery sweep does not queue them twice.
type Pending = Arc<Mutex<HashSet<Uuid>>>;

fn pending_set(p: &Pending) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// A reserved place in the queue. Dropping it unused gives the place back.
pub struct Slot(mpsc::OwnedPermit<GradingJob>, Pending);

impl Slot {
    pub fn send(self, job: GradingJob) {
        pending_set(&self.1).insert(job.attempt_id);
        self.0.send(job);
    }
}

/// The handle handlers hold (cheap to clone).
#[derive(Clone)]
pub struct GradingQueue {
    tx: mpsc::Sender<GradingJob>,
    breaker: Arc<Breaker>,
    finished: broadcast::Sender<Uuid>,
    pending: Pending,
    settings: WorkerSettings,
}

impl GradingQueue {
    /// Starts the dispatcher on the current tokio runtime. Call from `main` (or a test) before
    /// the server runs; the jobs then run on that runtime, not on the HTTP workers.
    pub fn start<R: AttemptRepo + ?Sized + 'static>(
        repo: Arc<R>,
        grader: Arc<dyn Grader>,
        settings: WorkerSettings,
    ) -> Self {
        let (tx, rx) = mpsc::channel(settings.queue.max(1));
        let breaker = Arc::new(Breaker::default());
        let (finished, _) = broadcast::channel(1024);
        let pending = Pending::default();
        let ctx = Arc::new(Ctx {
            repo,
            grader,
            breaker: breaker.clone(),
            finished: finished.clone(),
            pending: pending.clone(),
            settings: settings.clone(),
        });
        tokio::spawn(dispatch(rx, ctx));
        Self {
            tx,
            breaker,
            finished,
            pending,
            settings,
        }
    }

    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    /// Reserves a place for one job, or says why not (queue full, sandbox down).
    pub fn reserve(&self) -> Result<Slot, QueueRefusal> {
        if self.breaker.is_open() {
            return Err(QueueRefusal::SandboxDown);
        }
        self.tx
            .clone()
            .try_reserve_owned()
            .map(|p| Slot(p, self.pending.clone()))
            .map_err(|_| QueueRefusal::Full)
    }

    /// Queues a job, waiting for room (recovery and rejudges, not requests). A job for an
    /// attempt this instance already has queued or running is dropped (returns false).
    pub async fn enqueue(&self, job: GradingJob) -> Result<bool, DomainError> {
        if !pending_set(&self.pending).insert(job.attempt_id) {
            return Ok(false);
        }
        let id = job.attempt_id;
        let sent = self
            .tx
            .send(job)
            .await
            .map_err(|_| DomainError::Internal("the grading worker has stopped".into()));
        if sent.is_err() {
            pending_set(&self.pending).remove(&id);
        }
        sent.map(|()| true)
    }

    /// Ids of attempts as they finish, for long-polling readers.
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.finished.subscribe()
    }

    /// Jobs waiting for a runner.
    pub fn waiting(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

struct Ctx<R: ?Sized> {
    repo: Arc<R>,
    grader: Arc<dyn Grader>,
    breaker: Arc<Breaker>,
    finished: broadcast::Sender<Uuid>,
    pending: Pending,
    settings: WorkerSettings,
}

async fn dispatch<R: AttemptRepo + ?Sized + 'static>(
    mut rx: mpsc::Receiver<GradingJob>,
    ctx: Arc<Ctx<R>>,
) {
    let runners = Arc::new(Semaphore::new(ctx.settings.concurrency.max(1)));
    while let Some(job) = rx.recv().await {
        let Ok(permit) = runners.clone().acquire_owned().await else {
            return;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let id = job.attempt_id;
            run(&ctx, job).await;
            pending_set(&ctx.pending).remove(&id);
            drop(permit);
        });
    }
}

/// Runs a blocking port call off the async threads, retrying briefly when the store is down so
/// a short database blip does not strand an attempt.
async fn db<R: AttemptRepo + ?Sized + 'static, T: Send + 'static>(
    repo: &Arc<R>,
    f: impl Fn(&R) -> Result<T, domain::RepoError> + Send + Sync + 'static,
) -> Result<T, String> {
    let f = Arc::new(f);
    let mut last = String::new();
    for delay_ms in [0u64, 200, 1000, 3000] {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let (repo, f) = (repo.clone(), f.clone());
        match tokio::task::spawn_blocking(move || f(repo.as_ref())).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(domain::RepoError::Unavailable(e))) => last = e,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(last)
}

async fn run<R: AttemptRepo + ?Sized + 'static>(ctx: &Ctx<R>, job: GradingJob) {
    let id = job.attempt_id;
    let now = domain::now();
    match db(&ctx.repo, move |r| r.claim_attempt(id, now)).await {
        Ok(true) => {}
        Ok(false) => {
            // Another instance claimed it (or it is finished): grading it here would run it twice.
            tracing::debug!(attempt_id = %id, "attempt claimed elsewhere; skipped");
            return;
        }
        Err(e) => {
            // Left queued: a recovery sweep picks it up. Grading anyway would race that.
            tracing::error!(attempt_id = %id, error = %e, "cannot claim attempt");
            return;
        }
    }
    let started = Instant::now();
    let report = grade(ctx, &job).await;
    tracing::info!(
        attempt_id = %id,
        verdict = %report.verdict,
        score = report.score,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "attempt graded"
    );
    let done_at = domain::now();
    let stored = db(&ctx.repo, move |r| {
        match r.finish_attempt(id, &report, done_at) {
            Ok(()) => Ok(true),
            // A teacher deleted the task (with `force`) while it was graded: nothing to store.
            Err(domain::RepoError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    });
    match stored.await {
        Ok(true) => {
            let _ = ctx.finished.send(id);
        }
        Ok(false) => {
            tracing::info!(attempt_id = %id, "attempt deleted while it was graded; report dropped")
        }
        Err(e) => {
            tracing::error!(attempt_id = %id, error = %e, "cannot store grading report; left for recovery")
        }
    }
}

async fn grade<R: ?Sized>(ctx: &Ctx<R>, job: &GradingJob) -> GradeReport {
    let s = &ctx.settings;
    let first_try = Instant::now();
    // The claim must end before recovery would call it stale (a minute to store the report).
    let budget = s
        .stale_after
        .saturating_sub(Duration::from_secs(60))
        .max(Duration::from_secs(1));
    let mut unavailable = 0u32;
    loop {
        let left = budget.saturating_sub(first_try.elapsed());
        if left.is_zero() {
            return internal(job, "grading took too long on our side; please resubmit");
        }
        let outcome = tokio::time::timeout(
            s.grade_timeout.min(left),
            ctx.grader.grade(&job.code, &job.task),
        )
        .await;
        match outcome {
            Ok(Ok(report)) => {
                ctx.breaker.close();
                return report;
            }
            Ok(Err(GradeError::Busy)) if first_try.elapsed() < s.busy_patience => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(Err(GradeError::Busy)) => {
                return internal(job, "the grader stayed busy too long; please resubmit");
            }
            Ok(Err(GradeError::Unavailable(cause))) => {
                ctx.breaker.trip(s.breaker_cooldown);
                unavailable += 1;
                tracing::warn!(attempt_id = %job.attempt_id, cause = %cause, try_no = unavailable, "sandbox unavailable");
                if unavailable > s.unavailable_retries {
                    return internal(job, "the sandbox was unavailable; please resubmit later");
                }
                tokio::time::sleep(Duration::from_millis(500 << unavailable.min(5))).await;
            }
            Ok(Err(GradeError::Internal(cause))) => {
                tracing::error!(attempt_id = %job.attempt_id, cause = %cause, "sandbox failure");
                return internal(job, "grading failed on our side; please resubmit");
            }
            Err(_) => {
                tracing::error!(attempt_id = %job.attempt_id, "grading call timed out");
                return internal(job, "grading took too long on our side; please resubmit");
            }
        }
    }
}

fn internal(job: &GradingJob, why: &str) -> GradeReport {
    GradeReport::internal(job.task.limits, why)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use domain::{
        attempt::{Attempt, AttemptInput, AttemptStatus, Feedback, Page, Solution},
        grading::Verdict,
        task::{Limits, TaskData},
        RepoError, Timestamp,
    };
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Default)]
    struct Attempts(Mutex<Vec<Attempt>>);

    impl AttemptRepo for Attempts {
        fn insert_attempt(&self, a: &Attempt) -> Result<(), RepoError> {
            self.0.lock().unwrap().push(a.clone());
            Ok(())
        }
        fn attempt(&self, id: Uuid) -> Result<Option<Attempt>, RepoError> {
            Ok(self.0.lock().unwrap().iter().find(|a| a.id == id).cloned())
        }
        fn insert_attempt_capped(&self, _: &Attempt, _: u32) -> Result<bool, RepoError> {
            unimplemented!()
        }
        fn count_unfinished_of_user(&self, _: Uuid) -> Result<u64, RepoError> {
            unimplemented!()
        }
        fn claim_attempt(&self, id: Uuid, now: Timestamp) -> Result<bool, RepoError> {
            let mut all = self.0.lock().unwrap();
            match all.iter_mut().find(|a| a.id == id) {
                Some(a) if a.status == AttemptStatus::Queued => {
                    a.status = AttemptStatus::Running;
                    a.started_at = Some(now);
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
        fn requeue_stale_attempt(&self, _: Uuid, _: Timestamp) -> Result<bool, RepoError> {
            unimplemented!()
        }
        fn requeue_finished_attempt(&self, _: Uuid) -> Result<bool, RepoError> {
            unimplemented!()
        }
        fn set_status(
            &self,
            id: Uuid,
            status: AttemptStatus,
            _: Timestamp,
        ) -> Result<(), RepoError> {
            self.0
                .lock()
                .unwrap()
                .iter_mut()
                .filter(|a| a.id == id)
                .for_each(|a| a.status = status);
            Ok(())
        }
        fn finish_attempt(&self, id: Uuid, r: &GradeReport, _: Timestamp) -> Result<(), RepoError> {
            for a in self.0.lock().unwrap().iter_mut().filter(|a| a.id == id) {
                if a.status != AttemptStatus::Running {
                    return Err(RepoError::Conflict("not running".into()));
                }
                a.status = AttemptStatus::Done;
                a.report = Some(r.clone());
            }
            Ok(())
        }
        fn attempts_of_user(
            &self,
            _: Uuid,
            _: Option<Uuid>,
            _: Page,
        ) -> Result<Vec<Attempt>, RepoError> {
            unimplemented!()
        }
        fn attempts_of_task(&self, _: Uuid) -> Result<Vec<Attempt>, RepoError> {
            unimplemented!()
        }
        fn solutions_of_user(&self, _: Uuid, _: Page) -> Result<Vec<Solution>, RepoError> {
            unimplemented!()
        }
        fn unfinished_attempts(&self) -> Result<Vec<Attempt>, RepoError> {
            unimplemented!()
        }
        fn insert_feedback(&self, _: &Feedback) -> Result<(), RepoError> {
            unimplemented!()
        }
        fn feedback_of_attempt(&self, _: Uuid) -> Result<Vec<Feedback>, RepoError> {
            unimplemented!()
        }
    }

    /// Answers `Unavailable` for the first `down_for` calls, then accepts.
    struct FlakyGrader {
        calls: AtomicU32,
        down_for: u32,
    }

    #[async_trait::async_trait]
    impl Grader for FlakyGrader {
        async fn grade(&self, _: &str, task: &CodeTask) -> Result<GradeReport, GradeError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.down_for {
                return Err(GradeError::Unavailable("docker is not running".into()));
            }
            Ok(GradeReport {
                verdict: Verdict::Accepted,
                score: 1.0,
                ..GradeReport::internal(task.limits, "")
            })
        }
    }

    fn task() -> CodeTask {
        let TaskData::Code(c) = serde_json::from_value(serde_json::json!({
            "kind": "code", "statement": "s",
            "tests": [{"name": "t", "body": {"io": {"expected": "1"}}}]
        }))
        .unwrap() else {
            panic!("not code")
        };
        c
    }

    fn stored(repo: &Attempts) -> Uuid {
        let a = domain::services::submissions::new_attempt(
            Uuid::new_v4(),
            Uuid::new_v4(),
            AttemptInput::Code {
                code: "print(1)".into(),
            },
            domain::now(),
        );
        repo.insert_attempt(&a).unwrap();
        a.id
    }

    fn fast() -> WorkerSettings {
        WorkerSettings {
            breaker_cooldown: Duration::from_secs(60),
            unavailable_retries: 1,
            ..Default::default()
        }
    }

    async fn wait_done(q: &GradingQueue, repo: &Attempts, id: Uuid) -> Attempt {
        let mut rx = q.subscribe();
        for _ in 0..100 {
            let a = repo.attempt(id).unwrap().unwrap();
            if a.status == AttemptStatus::Done {
                return a;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await;
        }
        panic!("attempt never finished");
    }

    #[tokio::test]
    async fn an_unavailable_sandbox_ends_the_attempt_as_internal_error_and_refuses_new_work() {
        let repo = Arc::new(Attempts::default());
        let grader = Arc::new(FlakyGrader {
            calls: AtomicU32::new(0),
            down_for: u32::MAX,
        });
        let q = GradingQueue::start(repo.clone(), grader, fast());
        let id = stored(&repo);
        q.reserve().unwrap().send(GradingJob {
            attempt_id: id,
            code: "print(1)".into(),
            task: task(),
        });
        let a = wait_done(&q, &repo, id).await;
        assert_eq!(a.report.unwrap().verdict, Verdict::InternalError);
        assert_eq!(q.reserve().err(), Some(QueueRefusal::SandboxDown));
    }

    #[tokio::test]
    async fn a_short_outage_is_retried_and_the_attempt_is_graded() {
        let repo = Arc::new(Attempts::default());
        let grader = Arc::new(FlakyGrader {
            calls: AtomicU32::new(0),
            down_for: 1,
        });
        let q = GradingQueue::start(repo.clone(), grader, fast());
        let id = stored(&repo);
        q.reserve().unwrap().send(GradingJob {
            attempt_id: id,
            code: "print(1)".into(),
            task: task(),
        });
        let a = wait_done(&q, &repo, id).await;
        assert_eq!(a.report.unwrap().verdict, Verdict::Accepted);
        assert!(q.reserve().is_ok(), "a success closes the breaker");
    }

    #[tokio::test]
    async fn two_instances_queueing_one_attempt_grade_it_once() {
        let repo = Arc::new(Attempts::default());
        let grader = Arc::new(FlakyGrader {
            calls: AtomicU32::new(0),
            down_for: 0,
        });
        let a = GradingQueue::start(repo.clone(), grader.clone(), fast());
        let b = GradingQueue::start(repo.clone(), grader.clone(), fast());
        let id = stored(&repo);
        let job = || GradingJob {
            attempt_id: id,
            code: "print(1)".into(),
            task: task(),
        };
        let mut rx = b.subscribe();
        a.reserve().unwrap().send(job());
        assert!(b.enqueue(job()).await.unwrap());
        // Queued a third time (a recovery sweep racing the first run): still graded once.
        a.enqueue(job()).await.unwrap();
        let done = wait_done(&a, &repo, id).await;
        assert_eq!(done.report.unwrap().verdict, Verdict::Accepted);
        // Give the losing instance time to (not) grade it.
        let _ = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(grader.calls.load(Ordering::SeqCst), 1, "graded once");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_before_anything_is_stored() {
        let repo = Arc::new(Attempts::default());
        let grader = Arc::new(FlakyGrader {
            calls: AtomicU32::new(0),
            down_for: 0,
        });
        let q = GradingQueue::start(
            repo,
            grader,
            WorkerSettings {
                queue: 1,
                ..Default::default()
            },
        );
        let held = q.reserve().unwrap();
        assert_eq!(q.reserve().err(), Some(QueueRefusal::Full));
        drop(held);
        assert!(q.reserve().is_ok());
        let _ = Limits::default();
    }
}
