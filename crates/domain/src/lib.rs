//! Campus's domain: the types, rules and ports of a programming-learning platform.
//!
//! This crate does no I/O. It defines what a user, a lesson, a task, an attempt and a
//! verdict *are*, with constructors that refuse invalid values, and the traits (ports)
//! through which the outer crates (`persistence`, `sandbox`, `api`) provide storage,
//! grading and rate limiting. Nothing here reads the environment, a file or the clock
//! behind the caller's back: time comes in as an argument.

pub mod analytics;
pub mod attempt;
pub mod content;
pub mod course;
pub mod enums;
pub mod error;
pub mod grading;
pub mod link;
pub mod llm;
pub mod ports;
pub mod rate_limit;
pub mod services;
pub mod session;
pub mod task;
pub mod user;

pub use error::{DomainError, FieldError, RepoError};

/// Every timestamp in Campus is UTC and timezone-aware. There is no naive time in the domain.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time, cut to microseconds: the precision both databases keep, so a timestamp
/// an API call answers with equals the one a later read of the same row returns. The one
/// place Campus reads the clock (a source tripwire keeps it so).
pub fn now() -> Timestamp {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
