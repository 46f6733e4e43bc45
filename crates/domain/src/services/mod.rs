//! Use cases over the ports: what the API does, minus HTTP.
//!
//! Every function here is synchronous and pure apart from the port calls it is handed, so the
//! `api` crate runs it inside `web::block` and the unit tests run it against small in-memory
//! fakes. Grading itself is async (a sandbox run) and stays in `api`; the rules that decide what
//! to grade, and what a grade means (publishing, solutions), live here.

pub mod authoring;
pub mod progress;
pub mod quiz;
pub mod reading;
pub mod sessions;
pub mod submissions;
pub mod telegram;

#[cfg(test)]
pub(crate) mod fakes;

use crate::user::Role;
use uuid::Uuid;

/// Who is asking. Students see only published content; teachers and admins also see drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub role: Role,
}

impl Viewer {
    pub fn new(user_id: Uuid, role: Role) -> Self {
        Self { user_id, role }
    }

    /// Whether unpublished topics, lessons and tasks are visible to this viewer.
    pub fn sees_drafts(&self) -> bool {
        self.role.can_author()
    }
}
