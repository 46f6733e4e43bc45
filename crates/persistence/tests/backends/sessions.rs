use crate::common::*;
use domain::{ports::SessionRepo, session::SavedSession, RepoError};
use persistence::{testing::execute_raw, Database};
use serde_json::json;
use uuid::Uuid;

pub fn saved_session_is_found_by_the_id_it_was_saved_under(db: &Database) {
    let (u, k) = setup_task(db);
    let s = SavedSession {
        id: Uuid::new_v4(),
        owner_id: u.id,
        task_id: Some(k.id),
        state: json!({"code": "print(1)", "cursor": {"line": 1, "col": 8}}),
        created_at: t0(),
        updated_at: t0(),
    };
    db.insert_session(&s).unwrap();
    // The old backend looked up a fresh random id here and always answered 404.
    assert_eq!(db.session(s.id).unwrap(), Some(s.clone()));
    assert_eq!(db.session(Uuid::new_v4()).unwrap(), None);

    let updated = db
        .update_session(s.id, &json!({"code": "print(2)"}), at(5))
        .unwrap();
    assert_eq!(updated.state, json!({"code": "print(2)"}));
    assert_eq!((updated.created_at, updated.updated_at), (t0(), at(5)));
    assert_eq!(db.session(s.id).unwrap(), Some(updated));

    db.delete_session(s.id).unwrap();
    assert_eq!(db.session(s.id).unwrap(), None);
    assert!(matches!(
        db.delete_session(s.id),
        Err(RepoError::NotFound(_))
    ));
    assert!(matches!(
        db.update_session(s.id, &json!({}), at(6)),
        Err(RepoError::NotFound(_))
    ));
}

pub fn session_state_must_be_an_object_within_the_cap(db: &Database) {
    let u = user(db, "ann");
    let mut s = SavedSession {
        id: Uuid::new_v4(),
        owner_id: u.id,
        task_id: None,
        state: json!([1, 2]),
        created_at: t0(),
        updated_at: t0(),
    };
    assert!(matches!(db.insert_session(&s), Err(RepoError::Invalid(e)) if e[0].field == "state"));
    s.state = json!({"code": "x".repeat(domain::session::MAX_SESSION_BYTES)});
    assert!(
        matches!(db.insert_session(&s), Err(RepoError::Invalid(e)) if e[0].message.contains("bytes"))
    );
    s.state = json!({});
    db.insert_session(&s).unwrap();
    // A row whose state is not an object is refused when read.
    execute_raw(
        db,
        &format!(
            "UPDATE saved_sessions SET state = '[1]' WHERE id = '{}'",
            s.id
        ),
    )
    .unwrap();
    assert!(matches!(db.session(s.id), Err(RepoError::Internal(m)) if m.contains("state")));
    let mut orphan = s.clone();
    orphan.id = Uuid::new_v4();
    orphan.owner_id = Uuid::new_v4();
    assert!(matches!(
        db.insert_session(&orphan),
        Err(RepoError::Conflict(_))
    ));
}
