//! The sandbox grader. Without Docker or the image the server still starts; code submissions
//! then answer 503 (nothing stored) and `/ready` reports the grader as degraded, and the grader
//! connects by itself once the engine and the image are there (tried at most every
//! `sandbox::DEFAULT_RETRY_EVERY`), with no restart.

use crate::config::Config;
use domain::grading::Grader;
use std::sync::Arc;

/// The sandbox configuration: the crate's defaults, overridden by `SANDBOX_*` variables.
pub fn sandbox_config(config: &Config) -> sandbox::SandboxConfig {
    let mut cfg = sandbox::SandboxConfig {
        image: config.sandbox.image.clone(),
        ..Default::default()
    };
    if let Some(n) = config.sandbox.max_concurrent {
        cfg.max_concurrent = n;
    }
    if let Some(n) = config.sandbox.queue {
        cfg.queue_capacity = n;
    }
    cfg
}

/// The grader, with a first connection try now (its outcome is logged by the grader).
pub async fn connect(config: &Config) -> Arc<dyn Grader> {
    let grader = sandbox::LazyGrader::new(sandbox_config(config), sandbox::DEFAULT_RETRY_EVERY);
    // A failure is not fatal: the grader tries again when grading is next asked for.
    let _ = grader.ready().await;
    Arc::new(grader)
}
