//! Why the sandbox could not be set up or used. None of these is the student's fault.

use domain::grading::GradeError;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the Docker engine is not running or not reachable at {host} ({detail}); start it with \
         `scripts/setup-docker` (or `sudo systemctl start docker`) and check DOCKER_HOST"
    )]
    DockerUnavailable { host: String, detail: String },
    #[error("the sandbox image {image:?} is missing; build it with `scripts/build-sandbox-image {image}`")]
    ImageMissing { image: String },
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    #[error("Docker engine error: {0}")]
    Docker(#[from] bollard::errors::Error),
}

impl From<SandboxError> for GradeError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::DockerUnavailable { .. } | SandboxError::ImageMissing { .. } => {
                GradeError::Unavailable(e.to_string())
            }
            SandboxError::Config(_) | SandboxError::Docker(_) => {
                GradeError::Internal(e.to_string())
            }
        }
    }
}

/// True when an engine error means "cannot reach the engine", as opposed to a refused request.
pub(crate) fn is_connection_error(e: &bollard::errors::Error) -> bool {
    use bollard::errors::Error as E;
    matches!(
        e,
        E::SocketNotFoundError(_)
            | E::HyperResponseError { .. }
            | E::HyperLegacyError { .. }
            | E::IOError { .. }
            | E::RequestTimeoutError
    )
}

pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// A removal that failed because the container is gone or already being removed.
pub(crate) fn is_gone_or_going(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }
    )
}
