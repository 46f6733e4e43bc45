//! Connecting the sandbox grader at start-up. Without Docker or the image the server still
//! starts; code submissions then answer 503 and `/ready` reports the grader as degraded.

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

pub async fn connect(config: &Config) -> Option<Arc<dyn Grader>> {
    match sandbox::DockerGrader::connect(sandbox_config(config)).await {
        Ok(grader) => {
            tracing::info!(image = %config.sandbox.image, "sandbox grader ready");
            Some(Arc::new(grader))
        }
        Err(e) => {
            tracing::warn!(error = %e, "sandbox unavailable: code submissions will answer 503 until a restart");
            None
        }
    }
}
