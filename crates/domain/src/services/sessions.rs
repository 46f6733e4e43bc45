//! Saved editor sessions: stored under the id the owner gets back, readable by the owner only.

use super::Viewer;
use crate::{
    ports::SessionRepo,
    session::{check_state_shape, check_state_size, SavedSession, MAX_SESSION_BYTES},
    DomainError, Timestamp,
};
use uuid::Uuid;

fn check_state(state: &serde_json::Value) -> Result<(), DomainError> {
    check_state_size(state).map_err(|n| {
        DomainError::TooLarge(format!(
            "state is {n} bytes of JSON; the limit is {MAX_SESSION_BYTES} bytes"
        ))
    })?;
    check_state_shape(state).map_err(|e| DomainError::Validation(vec![e]))
}

/// Stores a new session and returns it; its `id` is the one to read it back with.
pub fn create(
    repo: &dyn SessionRepo,
    viewer: Viewer,
    task_id: Option<Uuid>,
    state: serde_json::Value,
    now: Timestamp,
) -> Result<SavedSession, DomainError> {
    check_state(&state)?;
    let session = SavedSession {
        id: Uuid::new_v4(),
        owner_id: viewer.user_id,
        task_id,
        state,
        created_at: now,
        updated_at: now,
    };
    repo.insert_session(&session)?;
    Ok(session)
}

/// The session with this id if `viewer` owns it; `NotFound` otherwise (also for other users,
/// so session ids cannot be probed).
pub fn get(repo: &dyn SessionRepo, viewer: Viewer, id: Uuid) -> Result<SavedSession, DomainError> {
    match repo.session(id)? {
        Some(s) if s.owner_id == viewer.user_id => Ok(s),
        _ => Err(DomainError::NotFound("session")),
    }
}

pub fn update(
    repo: &dyn SessionRepo,
    viewer: Viewer,
    id: Uuid,
    state: serde_json::Value,
    now: Timestamp,
) -> Result<SavedSession, DomainError> {
    check_state(&state)?;
    get(repo, viewer, id)?;
    Ok(repo.update_session(id, &state, now)?)
}

pub fn delete(repo: &dyn SessionRepo, viewer: Viewer, id: Uuid) -> Result<(), DomainError> {
    get(repo, viewer, id)?;
    Ok(repo.delete_session(id)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        services::fakes::{now, FakeRepo},
        user::Role,
    };
    use serde_json::json;

    #[test]
    fn a_session_is_read_back_by_the_id_it_was_stored_under() {
        let repo = FakeRepo::default();
        let me = Viewer::new(Uuid::new_v4(), Role::Student);
        let s = create(&repo, me, None, json!({"code": "print(1)"}), now()).unwrap();
        assert_eq!(
            get(&repo, me, s.id).unwrap().state,
            json!({"code": "print(1)"})
        );
        let other = Viewer::new(Uuid::new_v4(), Role::Teacher);
        assert!(matches!(
            get(&repo, other, s.id),
            Err(DomainError::NotFound(_))
        ));
        assert!(matches!(
            delete(&repo, other, s.id),
            Err(DomainError::NotFound(_))
        ));
        update(&repo, me, s.id, json!({"code": "print(2)"}), now()).unwrap();
        assert_eq!(get(&repo, me, s.id).unwrap().state["code"], "print(2)");
        delete(&repo, me, s.id).unwrap();
        assert!(get(&repo, me, s.id).is_err());
    }

    #[test]
    fn oversized_or_non_object_states_are_refused() {
        let repo = FakeRepo::default();
        let me = Viewer::new(Uuid::new_v4(), Role::Student);
        let big = json!({ "code": "x".repeat(MAX_SESSION_BYTES) });
        assert!(matches!(
            create(&repo, me, None, big, now()),
            Err(DomainError::TooLarge(_))
        ));
        assert!(matches!(
            create(&repo, me, None, json!([1]), now()),
            Err(DomainError::Validation(_))
        ));
    }
}
