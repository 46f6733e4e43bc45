//! The domain's error types. `api` maps them to HTTP once, in one place.

use serde::Serialize;

/// One invalid field: `field` is the camelCase path a client would see (`tests[2].weight`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, one level deeper: `prefix.field`.
    pub fn under(self, prefix: &str) -> Self {
        let field = if self.field.is_empty() {
            prefix.to_string()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        Self {
            field,
            message: self.message,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Errors from a storage adapter, independent of the database behind it.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or foreign-key rule held by the database refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The value was refused before writing (task data, session state); fields are relative to it.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The database cannot be reached (pool exhausted, server down).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Internal(String),
}

/// The domain's error, mapped once to HTTP by `api`.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not signed in")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("payload too large: {0}")]
    TooLarge(String),
    #[error("busy: {0}")]
    Busy(String),
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<RepoError> for DomainError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(what) => Self::NotFound(what),
            RepoError::Conflict(what) => Self::Conflict(what),
            RepoError::Invalid(errors) => Self::Validation(errors),
            RepoError::Unavailable(why) => Self::Unavailable(why),
            RepoError::Internal(why) => Self::Internal(why),
        }
    }
}

impl From<Vec<FieldError>> for DomainError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}
