//! Errors of this crate: [`DbError`] for connecting and migrating, and the one mapping from
//! diesel's errors to the domain's `RepoError` (uniqueness and foreign keys become `Conflict`
//! with a message a client can act on; an unreachable database becomes `Unavailable`).

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use domain::RepoError;

/// Setting up or migrating a database failed. Displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// Host and port (or file) and the reason, e.g.
    /// `cannot connect to PostgreSQL at 127.0.0.1:5432: ... Connection refused ...`.
    #[error("{0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// `?`-friendly conversion of diesel results inside repository code.
pub(crate) trait DbResultExt<T> {
    fn repo(self) -> Result<T, RepoError>;
}

impl<T> DbResultExt<T> for Result<T, DieselError> {
    fn repo(self) -> Result<T, RepoError> {
        self.map_err(repo_error)
    }
}

pub(crate) fn repo_error(e: DieselError) -> RepoError {
    match e {
        DieselError::DatabaseError(kind, info) => database_error(kind, info.as_ref()),
        DieselError::NotFound => RepoError::NotFound("record"),
        other => RepoError::Internal(other.to_string()),
    }
}

fn database_error(kind: DatabaseErrorKind, info: &dyn DatabaseErrorInformation) -> RepoError {
    // PostgreSQL names the constraint; SQLite names `table.column` in the message. Both contain
    // the table and column names, which is what the messages below are keyed on.
    let key = format!(
        "{} {}",
        info.constraint_name().unwrap_or(""),
        info.message()
    )
    .to_ascii_lowercase();
    match kind {
        DatabaseErrorKind::UniqueViolation => RepoError::Conflict(unique_message(&key).to_string()),
        DatabaseErrorKind::ForeignKeyViolation => RepoError::Conflict(
            "the record refers to a user, topic, lesson, task or attempt that does not exist"
                .to_string(),
        ),
        DatabaseErrorKind::ClosedConnection => {
            RepoError::Unavailable("the database connection was closed".into())
        }
        DatabaseErrorKind::SerializationFailure => {
            RepoError::Unavailable("the database is busy (serialization failure); try again".into())
        }
        _ if key.contains("database is locked") || key.contains("database is busy") => {
            RepoError::Unavailable("the SQLite database is busy; try again".into())
        }
        _ => RepoError::Internal(crate::connection::one_line(info.message())),
    }
}

fn unique_message(key: &str) -> &'static str {
    let has = |a: &str, b: &str| key.contains(a) && key.contains(b);
    if key.contains("username_key") {
        "username is taken (usernames are unique regardless of case)"
    } else if key.contains("external_id_hash") {
        "this external identity is already linked to another account"
    } else if key.contains("telegram_user_id") {
        "this Telegram account is already linked to another account"
    } else if has("topics", "slug") {
        "a topic with this slug already exists"
    } else if has("lessons", "slug") {
        "a lesson with this slug already exists in this topic"
    } else if has("tasks", "slug") {
        "a task with this slug already exists in this lesson"
    } else if key.contains("solutions") {
        "this task is already solved by this user"
    } else if key.contains("refresh_tokens") {
        "this refresh token already exists"
    } else if key.contains("link_codes") {
        "this link code already exists"
    } else {
        "a record with this id already exists"
    }
}

/// A stored row that does not hold what the schema promises (bad JSON, unknown enum value).
pub(crate) fn corrupt(
    table: &str,
    id: &str,
    field: &str,
    why: impl std::fmt::Display,
) -> RepoError {
    RepoError::Internal(format!("corrupt row in {table} ({id}): {field}: {why}"))
}
