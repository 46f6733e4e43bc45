//! Saved editor sessions: stored under the id the owner gets back, readable by the owner only.

use super::{reading::readable_task, Viewer};
use crate::{
    content::{Lesson, Topic},
    ports::{ContentRepo, SessionRepo},
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

/// Stores a new session and returns it; its `id` is the one to read it back with. A `task_id`
/// must name a task the viewer can read (`outline` is the viewer's): a missing task and a draft
/// a student cannot see are the same 422 on `taskId`, so draft ids cannot be probed.
pub fn create(
    repo: &dyn SessionRepo,
    content: &dyn ContentRepo,
    outline: &[(Topic, Vec<Lesson>)],
    viewer: Viewer,
    task_id: Option<Uuid>,
    state: serde_json::Value,
    now: Timestamp,
) -> Result<SavedSession, DomainError> {
    check_state(&state)?;
    if let Some(id) = task_id {
        match readable_task(content, outline, viewer.sees_drafts(), id) {
            Ok(_) => {}
            Err(DomainError::NotFound(_)) => {
                return Err(DomainError::invalid(
                    "taskId",
                    "refers to no task you can open",
                ))
            }
            Err(e) => return Err(e),
        }
    }
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
        let s = create(
            &repo,
            &repo,
            &[],
            me,
            None,
            json!({"code": "print(1)"}),
            now(),
        )
        .unwrap();
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
    fn a_task_id_must_name_a_task_the_viewer_can_open() {
        use crate::services::fakes::code_task_data;
        let repo = FakeRepo::default();
        let t = repo.add_topic("t", true);
        let l = repo.add_lesson(t, "l", true);
        let open = repo.add_task(l, "open", true, code_task_data());
        let draft = repo.add_task(l, "draft", false, code_task_data());
        let me = Viewer::new(Uuid::new_v4(), Role::Student);
        let outline = repo.outline(false).unwrap();
        let st = || json!({"code": ""});
        assert!(create(&repo, &repo, &outline, me, Some(open), st(), now()).is_ok());
        for bad in [draft, Uuid::nil()] {
            match create(&repo, &repo, &outline, me, Some(bad), st(), now()) {
                Err(DomainError::Validation(f)) => assert_eq!(f[0].field, "taskId"),
                other => panic!("{other:?}"),
            }
        }
        let teacher = Viewer::new(Uuid::new_v4(), Role::Teacher);
        let all = repo.outline(true).unwrap();
        assert!(create(&repo, &repo, &all, teacher, Some(draft), st(), now()).is_ok());
    }

    #[test]
    fn oversized_or_non_object_states_are_refused() {
        let repo = FakeRepo::default();
        let me = Viewer::new(Uuid::new_v4(), Role::Student);
        let big = json!({ "code": "x".repeat(MAX_SESSION_BYTES) });
        assert!(matches!(
            create(&repo, &repo, &[], me, None, big, now()),
            Err(DomainError::TooLarge(_))
        ));
        assert!(matches!(
            create(&repo, &repo, &[], me, None, json!([1]), now()),
            Err(DomainError::Validation(_))
        ));
    }
}
