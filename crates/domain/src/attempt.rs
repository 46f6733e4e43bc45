//! Attempts at tasks, their results, solutions and feedback.

use crate::{grading::GradeReport, string_enum, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

string_enum! {
    pub enum AttemptStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
    }
}

/// What the student handed in. Stored as JSON and validated when read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum AttemptInput {
    Code {
        code: String,
    },
    /// For each question, the indexes of the chosen options.
    Quiz {
        answers: Vec<Vec<u32>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub id: Uuid,
    pub user_id: Uuid,
    pub task_id: Uuid,
    pub input: AttemptInput,
    pub status: AttemptStatus,
    /// Set once `status` is `Done`.
    pub report: Option<GradeReport>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// A task a user has solved, pointing at the first accepted attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub user_id: Uuid,
    pub task_id: Uuid,
    pub attempt_id: Uuid,
    pub solved_at: Timestamp,
}

/// Written about an attempt (by the LLM, or a teacher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub id: Uuid,
    pub attempt_id: Uuid,
    pub body: String,
    /// Which model or person wrote it.
    pub author: String,
    pub created_at: Timestamp,
}

/// Offset pagination, bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

impl Page {
    pub const MAX_LIMIT: u32 = 100;

    pub fn new(limit: Option<u32>, offset: Option<u32>) -> Result<Self, crate::FieldError> {
        let limit = limit.unwrap_or(20);
        if limit == 0 || limit > Self::MAX_LIMIT {
            return Err(crate::FieldError::new("limit", "must be between 1 and 100"));
        }
        Ok(Self {
            limit,
            offset: offset.unwrap_or(0),
        })
    }
}
