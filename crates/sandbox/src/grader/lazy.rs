//! [`LazyGrader`]: a [`DockerGrader`] that is connected on demand, so a server started before
//! the Docker engine (or before the image was built) starts grading once they are there,
//! without a restart.

use super::DockerGrader;
use crate::config::SandboxConfig;
use domain::grading::{GradeError, GradeReport, Grader};
use domain::task::CodeTask;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Waits between two connection tries while the engine or the image is missing.
pub const DEFAULT_RETRY_EVERY: Duration = Duration::from_secs(10);

/// Connects at most once per `retry_every` until a connection succeeds, then keeps it.
/// Between tries every call answers the last failure at once (no engine round trip).
pub struct LazyGrader {
    config: SandboxConfig,
    retry_every: Duration,
    connected: Mutex<Option<DockerGrader>>,
    /// The last failure and when the next try may happen.
    failed: Mutex<Option<(String, Instant)>>,
    /// One connection try at a time.
    connecting: tokio::sync::Mutex<()>,
}

impl LazyGrader {
    pub fn new(config: SandboxConfig, retry_every: Duration) -> Self {
        Self {
            config,
            retry_every,
            connected: Mutex::new(None),
            failed: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Option<DockerGrader> {
        self.connected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The connected grader, connecting first when it is time to try again.
    pub async fn grader(&self) -> Result<DockerGrader, GradeError> {
        if let Some(g) = self.current() {
            return Ok(g);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(g) = self.current() {
            return Ok(g);
        }
        if let Some((why, next)) = self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            if Instant::now() < next {
                return Err(GradeError::Unavailable(why));
            }
        }
        match DockerGrader::connect(self.config.clone()).await {
            Ok(g) => {
                tracing::info!(image = %self.config.image, "sandbox grader connected");
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = None;
                *self.connected.lock().unwrap_or_else(|p| p.into_inner()) = Some(g.clone());
                Ok(g)
            }
            Err(e) => {
                let why = e.to_string();
                tracing::warn!(error = %why, retry_in_secs = self.retry_every.as_secs(), "sandbox unavailable: code submissions answer 503 until it is");
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((why, Instant::now() + self.retry_every));
                Err(e.into())
            }
        }
    }

    /// Whether a connection is held now (no connection try).
    pub fn is_connected(&self) -> bool {
        self.current().is_some()
    }
}

#[async_trait::async_trait]
impl Grader for LazyGrader {
    async fn grade(&self, code: &str, task: &CodeTask) -> Result<GradeReport, GradeError> {
        self.grader().await?.grade(code, task).await
    }

    async fn ready(&self) -> Result<(), GradeError> {
        self.grader().await.map(drop)
    }

    async fn shutdown(&self) {
        if let Some(g) = self.current() {
            g.shutdown().await;
        }
    }
}
