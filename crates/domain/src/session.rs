//! Saved editor sessions: a student's editor state, stored under an id they get back.

use crate::{error::FieldError, Timestamp};
use uuid::Uuid;

/// The largest editor state Campus keeps, in bytes of JSON.
pub const MAX_SESSION_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct SavedSession {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub task_id: Option<Uuid>,
    pub state: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks the size cap. `Err` carries the size for a 413 message.
pub fn check_state_size(state: &serde_json::Value) -> Result<(), usize> {
    let n = serde_json::to_vec(state)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if n > MAX_SESSION_BYTES {
        Err(n)
    } else {
        Ok(())
    }
}

/// An editor state must be a JSON object.
pub fn check_state_shape(state: &serde_json::Value) -> Result<(), FieldError> {
    if state.is_object() {
        Ok(())
    } else {
        Err(FieldError::new("state", "must be a JSON object"))
    }
}
