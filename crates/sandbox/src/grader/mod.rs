//! [`DockerGrader`]: one hardened, throwaway container per submission, driven through bollard.
//! `pool.rs` keeps containers created ahead of need; `reaper.rs` removes the ones nobody owns.

use crate::config::SandboxConfig;
use crate::container::{create_body, Labels};
use crate::error::{is_connection_error, is_gone_or_going, is_not_found, SandboxError};
use crate::owner;
use crate::protocol::{
    assemble, job_json, job_overhead_mb, new_nonce, Ending, FrameReader, RunRecord,
};
use bollard::container::{AttachContainerResults, LogOutput};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptions, KillContainerOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use bollard::Docker;
use domain::grading::{GradeError, GradeReport, Grader};
use domain::task::CodeTask;
use futures_util::StreamExt;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use uuid::Uuid;

mod lazy;
mod pool;
mod reaper;

pub use lazy::{LazyGrader, DEFAULT_RETRY_EVERY};

use pool::{pool_loop, Pooled};
use reaper::reaper_loop;

/// The stdout budget of a run, per test. A frame carries at most 4096 characters of output and
/// 4096 of message (at most 32 KiB as UTF-8), so every frame fits with room to spare.
const FRAME_BUDGET_PER_TEST: usize = 128 * 1024;
/// The harness writes nothing to stderr unless it breaks; a program writing there through
/// `/proc/1/fd/2` gets this much.
const STDERR_BUDGET: usize = 64 * 1024;
/// Longest wait for the engine to answer one request.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Start-up of one test's interpreter, added to the test's own limit for the run's wall clock.
const PER_TEST_SLACK: Duration = Duration::from_millis(500);

/// Grades submissions in Docker. Cheap to clone; all clones share runners, queue and pool.
#[derive(Clone)]
pub struct DockerGrader {
    inner: Arc<Inner>,
}

/// Where one run happened, for callers (and tests) that need to follow its container.
#[derive(Debug, Clone)]
pub struct RunTrace {
    pub run_id: String,
    pub container_id: String,
}

struct Inner {
    docker: Docker,
    config: SandboxConfig,
    image_id: String,
    instance: Uuid,
    instance_str: String,
    owner: String,
    /// `campus.run` labels of every container this grader owns right now (pooled or running).
    live_runs: Mutex<HashSet<String>>,
    pool: Mutex<Vec<Pooled>>,
    /// The memory size the next pooled containers are made for (the last one asked for).
    wanted_memory_mb: AtomicUsize,
    refill: Arc<Notify>,
    admitted: AtomicUsize,
    permits: Semaphore,
    preparing: Semaphore,
    background: Mutex<Vec<JoinHandle<()>>>,
}

impl DockerGrader {
    /// Connects to the engine, checks the image, removes orphans left by dead processes and
    /// starts the pool and the periodic reaper.
    pub async fn connect(config: SandboxConfig) -> Result<Self, SandboxError> {
        validate(&config)?;
        let host = config
            .docker_host
            .clone()
            .unwrap_or_else(|| "the default socket (DOCKER_HOST)".into());
        let unavailable = |detail: String| SandboxError::DockerUnavailable {
            host: host.clone(),
            detail,
        };
        let docker = match &config.docker_host {
            Some(h) => Docker::connect_with_host(h),
            None => Docker::connect_with_defaults(),
        }
        .map_err(|e| unavailable(e.to_string()))?
        // Bounds waiting for each response's head (not attach streams): a hung engine becomes an
        // error instead of a submission that never returns.
        .with_timeout(ENGINE_TIMEOUT);
        let docker = tokio::time::timeout(Duration::from_secs(15), docker.negotiate_version())
            .await
            .map_err(|_| unavailable("no answer within 15 s".into()))?
            .map_err(|e| unavailable(e.to_string()))?;
        let image = match docker.inspect_image(&config.image).await {
            Ok(i) => i,
            Err(e) if is_not_found(&e) => {
                return Err(SandboxError::ImageMissing {
                    image: config.image.clone(),
                })
            }
            Err(e) if is_connection_error(&e) => return Err(unavailable(e.to_string())),
            Err(e) => return Err(e.into()),
        };
        let image_id = image.id.ok_or_else(|| SandboxError::ImageMissing {
            image: config.image.clone(),
        })?;
        let instance = Uuid::new_v4();
        owner::register_instance(instance);
        let inner = Arc::new(Inner {
            docker,
            image_id,
            instance,
            instance_str: instance.to_string(),
            owner: owner::current_owner(),
            live_runs: Mutex::new(HashSet::new()),
            pool: Mutex::new(Vec::new()),
            wanted_memory_mb: AtomicUsize::new(domain::task::Limits::default().memory_mb as usize),
            refill: Arc::new(Notify::new()),
            admitted: AtomicUsize::new(0),
            permits: Semaphore::new(config.max_concurrent),
            preparing: Semaphore::new(config.max_concurrent),
            background: Mutex::new(Vec::new()),
            config,
        });
        if let Err(e) = inner.reap_orphans().await {
            tracing::warn!(error = %e, "initial reap of orphan sandbox containers failed");
        }
        let tasks = vec![
            tokio::spawn(reaper_loop(
                Arc::downgrade(&inner),
                inner.config.reap_interval,
            )),
            tokio::spawn(pool_loop(Arc::downgrade(&inner), inner.refill.clone())),
        ];
        if let Ok(mut b) = inner.background.lock() {
            b.extend(tasks);
        }
        tracing::info!(instance = %inner.instance, image = %inner.image_id, "sandbox ready");
        Ok(Self { inner })
    }

    /// The `sha256:` id of the image every run uses (recorded in each report).
    pub fn image_id(&self) -> &str {
        &self.inner.image_id
    }

    /// This grader's `campus.instance` label.
    pub fn instance_id(&self) -> Uuid {
        self.inner.instance
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// Submissions running or queued right now.
    pub fn in_flight(&self) -> usize {
        self.inner.admitted.load(Ordering::SeqCst)
    }

    /// Stops the pool and the reaper and removes the pooled containers; runs in flight finish.
    /// Call on a graceful shutdown (a crash is handled by the next start's reaper).
    pub async fn shutdown(&self) {
        if let Ok(b) = self.inner.background.lock() {
            b.iter().for_each(JoinHandle::abort);
        }
        let pooled: Vec<Pooled> = self
            .inner
            .pool
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        for p in pooled {
            self.inner.remove(&p.id, &p.run).await;
        }
    }

    /// Removes labelled containers that no live run owns: this grader's stale ones, and those of
    /// processes that are gone. Returns how many were removed.
    pub async fn reap_orphans(&self) -> Result<usize, SandboxError> {
        self.inner.reap_orphans().await
    }

    /// Like [`Grader::grade`], also saying which container ran it.
    pub async fn grade_traced(
        &self,
        code: &str,
        task: &CodeTask,
    ) -> Result<(GradeReport, RunTrace), GradeError> {
        let _slot = Admission::enter(&self.inner)?;
        let closed = |_| GradeError::Internal("grader closed".into());
        let mut retried = false;
        loop {
            // Stage 1: a container, pooled or new. At most `max_concurrent` are being made at
            // once, so the next runs' containers get ready while the current ones run.
            let guard = {
                let _making = self.inner.preparing.acquire().await.map_err(closed)?;
                self.inner
                    .container(task.limits.memory_mb, job_overhead_mb(code, task))
                    .await?
            };
            // Stage 2: the run itself, at most `max_concurrent` at once.
            let _permit = self.inner.permits.acquire().await.map_err(closed)?;
            match self.inner.run(guard, code, task).await {
                Err(RunError::Vanished(why)) if !retried => {
                    tracing::warn!(reason = %why, "sandbox container vanished before start; retrying once");
                    retried = true;
                }
                Err(RunError::Vanished(why)) => return Err(GradeError::Internal(why)),
                Err(RunError::Grade(e)) => return Err(e),
                Ok(r) => return Ok(r),
            }
        }
    }
}

#[async_trait::async_trait]
impl Grader for DockerGrader {
    async fn grade(&self, code: &str, task: &CodeTask) -> Result<GradeReport, GradeError> {
        self.grade_traced(code, task)
            .await
            .map(|(report, _)| report)
    }

    async fn shutdown(&self) {
        DockerGrader::shutdown(self).await;
    }
}

fn validate(c: &SandboxConfig) -> Result<(), SandboxError> {
    let bad = |m: &str| Err(SandboxError::Config(m.into()));
    if c.image.trim().is_empty() {
        return bad("image must not be empty");
    }
    if c.max_concurrent == 0 {
        return bad("max_concurrent must be at least 1");
    }
    if !(c.cpu_quota.is_finite() && c.cpu_quota >= 0.01) {
        return bad("cpu_quota must be at least 0.01 cores");
    }
    if c.pids_limit < 8 {
        return bad("pids_limit must be at least 8 (the harness needs a few processes)");
    }
    if c.tmp_size_mb == 0 || c.max_file_mb == 0 || c.max_open_files < 16 {
        return bad("tmp_size_mb and max_file_mb must be positive and max_open_files at least 16");
    }
    Ok(())
}

/// Counts a submission in (running or queued) and out again on drop.
struct Admission<'a>(&'a AtomicUsize);

impl<'a> Admission<'a> {
    fn enter(inner: &'a Inner) -> Result<Self, GradeError> {
        let cap = inner.config.max_concurrent + inner.config.queue_capacity;
        inner
            .admitted
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < cap).then_some(n + 1)
            })
            .map_err(|_| GradeError::Busy)?;
        Ok(Self(&inner.admitted))
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

enum RunError {
    /// The container disappeared before it started (reaped, removed by hand): worth one retry.
    Vanished(String),
    Grade(GradeError),
}

impl From<GradeError> for RunError {
    fn from(e: GradeError) -> Self {
        RunError::Grade(e)
    }
}

/// Force-removes its container when dropped: on success, error, timeout, panic or a dropped
/// (cancelled) future alike.
struct ContainerGuard {
    inner: Arc<Inner>,
    id: String,
    run: String,
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let (inner, id, run) = (
            self.inner.clone(),
            std::mem::take(&mut self.id),
            std::mem::take(&mut self.run),
        );
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move { inner.remove(&id, &run).await });
            }
            // No runtime (process shutting down): the next reaper removes it.
            Err(_) => {
                tracing::warn!(run = %run, "no runtime to remove a sandbox container; the reaper will")
            }
        }
    }
}

impl Inner {
    fn docker_error(&self, what: &str, e: bollard::errors::Error) -> GradeError {
        if is_connection_error(&e) {
            GradeError::Unavailable(format!(
                "the Docker engine is not reachable ({what}: {e}); start it with `scripts/setup-docker`"
            ))
        } else if matches!(&e, bollard::errors::Error::DockerResponseServerError { status_code: 404, message } if message.contains("image"))
        {
            GradeError::Unavailable(format!(
                "the sandbox image {:?} is missing; build it with `scripts/build-sandbox-image`",
                self.config.image
            ))
        } else {
            GradeError::Internal(format!("{what}: {e}"))
        }
    }

    async fn create(&self, memory_mb: u32) -> Result<(String, String), GradeError> {
        let run = Uuid::new_v4().to_string();
        if let Ok(mut live) = self.live_runs.lock() {
            live.insert(run.clone());
        }
        let labels = Labels {
            instance: &self.instance_str,
            owner: &self.owner,
            run: &run,
        };
        let body = create_body(&self.config, &self.image_id, memory_mb, &labels);
        match self
            .docker
            .create_container(None::<CreateContainerOptions>, body)
            .await
        {
            Ok(r) => Ok((r.id, run)),
            Err(e) => {
                if let Ok(mut live) = self.live_runs.lock() {
                    live.remove(&run);
                }
                Err(self.docker_error("create container", e))
            }
        }
    }

    async fn remove(&self, id: &str, run: &str) {
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => {}
            Err(e) if is_gone_or_going(&e) => {}
            Err(e) => {
                tracing::warn!(run = %run, error = %e, "removing a sandbox container failed; the reaper will retry")
            }
        }
        if let Ok(mut live) = self.live_runs.lock() {
            live.remove(run);
        }
    }

    fn wall_limit(&self, task: &CodeTask) -> Duration {
        let per_test = Duration::from_millis(u64::from(task.limits.time_ms)) + PER_TEST_SLACK;
        let n = u32::try_from(task.tests.len()).unwrap_or(u32::MAX);
        (per_test.saturating_mul(n) + self.config.run_overhead).min(self.config.max_run_time)
    }

    async fn run(
        self: &Arc<Self>,
        guard: ContainerGuard,
        code: &str,
        task: &CodeTask,
    ) -> Result<(GradeReport, RunTrace), RunError> {
        let t0 = Instant::now();
        let trace = RunTrace {
            run_id: guard.run.clone(),
            container_id: guard.id.clone(),
        };
        let nonce = new_nonce();
        let job = job_json(&nonce, code, task)
            .map_err(|e| GradeError::Internal(format!("job encoding: {e}")))?;
        let opts = AttachContainerOptionsBuilder::new()
            .stream(true)
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .logs(false)
            .build();
        let attached = match self.docker.attach_container(&guard.id, Some(opts)).await {
            Ok(a) => a,
            Err(e) if is_not_found(&e) => return Err(RunError::Vanished(e.to_string())),
            Err(e) => return Err(self.docker_error("attach", e).into()),
        };
        let t_attach = t0.elapsed();
        match self.docker.start_container(&guard.id, None).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => return Err(RunError::Vanished(e.to_string())),
            Err(e) => return Err(self.docker_error("start", e).into()),
        }
        let t_start = t0.elapsed();
        let budget = FRAME_BUDGET_PER_TEST * (task.tests.len() + 2);
        let mut reader = FrameReader::new(&nonce);
        let exchange = exchange(attached, &job, &mut reader, budget);
        let ending = match tokio::time::timeout(self.wall_limit(task), exchange).await {
            Err(_) => {
                self.kill(&guard.id).await;
                Ending::WallClock
            }
            Ok(Err(e)) => return Err(self.docker_error("attach stream", e).into()),
            Ok(Ok(Exchange::Finished)) => Ending::Finished,
            Ok(Ok(Exchange::OverBudget)) => {
                self.kill(&guard.id).await;
                Ending::OutputCap
            }
            Ok(Ok(Exchange::StreamEnded)) => self.why_it_ended(&guard.id).await,
        };
        let duration_ms = u32::try_from(t0.elapsed().as_millis()).unwrap_or(u32::MAX);
        tracing::debug!(
            run = %trace.run_id,
            attach_ms = t_attach.as_millis() as u64,
            start_ms = t_start.as_millis() as u64,
            total_ms = t0.elapsed().as_millis() as u64,
            "run phases"
        );
        let report = assemble(RunRecord {
            task,
            frames: &reader.frames,
            malformed: reader.malformed.as_deref(),
            ending: ending.clone(),
            image_id: &self.image_id,
            duration_ms,
        });
        tracing::info!(run = %trace.run_id, verdict = %report.verdict, ending = ?ending, duration_ms, "graded");
        if report.verdict == domain::grading::Verdict::InternalError {
            // Where the harness failed (file and line, never the job's content), for operators.
            let details: Vec<&str> = reader.frames.iter().filter_map(|f| f.detail()).collect();
            tracing::warn!(run = %trace.run_id, why = ?report.diagnostics, details = ?details, "the grading harness failed");
        }
        drop(guard);
        Ok((report, trace))
    }

    async fn kill(&self, id: &str) {
        let opts = KillContainerOptionsBuilder::new().signal("SIGKILL").build();
        if let Err(e) = self.docker.kill_container(id, Some(opts)).await {
            tracing::debug!(error = %e, "kill of a sandbox container failed (it may have ended already)");
        }
    }

    /// The output stream closed before the last frame: the container exited. Out of memory, or
    /// the harness was killed?
    async fn why_it_ended(&self, id: &str) -> Ending {
        let wait = self.docker.wait_container(
            id,
            Some(
                WaitContainerOptionsBuilder::new()
                    .condition("not-running")
                    .build(),
            ),
        );
        let exit_code =
            match tokio::time::timeout(Duration::from_secs(5), Box::pin(wait).next()).await {
                Ok(Some(Ok(r))) => Some(r.status_code),
                Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError {
                    code, ..
                }))) => Some(code),
                _ => None,
            };
        match self.docker.inspect_container(id, None).await {
            Ok(c) if c.state.as_ref().and_then(|s| s.oom_killed) == Some(true) => {
                Ending::OutOfMemory
            }
            Ok(c) => Ending::Vanished {
                exit_code: c.state.and_then(|s| s.exit_code).or(exit_code),
            },
            Err(_) => Ending::Vanished { exit_code },
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        owner::unregister_instance(self.instance);
        if let Ok(b) = self.background.lock() {
            b.iter().for_each(JoinHandle::abort);
        }
        let pooled: Vec<Pooled> = self
            .pool
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        if pooled.is_empty() {
            return;
        }
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            let docker = self.docker.clone();
            h.spawn(async move {
                for p in pooled {
                    let opts = RemoveContainerOptionsBuilder::new()
                        .force(true)
                        .v(true)
                        .build();
                    let _ = docker.remove_container(&p.id, Some(opts)).await;
                }
            });
        }
    }
}

enum Exchange {
    Finished,
    OverBudget,
    StreamEnded,
}

/// Sends the job, closes stdin, and reads frames until the last one, the end of the stream, or
/// the output budget.
async fn exchange(
    attached: AttachContainerResults,
    job: &[u8],
    reader: &mut FrameReader,
    budget: usize,
) -> Result<Exchange, bollard::errors::Error> {
    let AttachContainerResults {
        mut output,
        mut input,
    } = attached;
    input.write_all(job).await?;
    input.shutdown().await?;
    drop(input);
    let mut stderr_bytes = 0usize;
    while let Some(item) = output.next().await {
        match item? {
            LogOutput::StdOut { message } | LogOutput::Console { message } => reader.push(&message),
            LogOutput::StdErr { message } => stderr_bytes += message.len(),
            LogOutput::StdIn { .. } => {}
        }
        if reader.done() {
            return Ok(Exchange::Finished);
        }
        if reader.bytes > budget || stderr_bytes > STDERR_BUDGET {
            return Ok(Exchange::OverBudget);
        }
    }
    Ok(if reader.done() {
        Exchange::Finished
    } else {
        Exchange::StreamEnded
    })
}
