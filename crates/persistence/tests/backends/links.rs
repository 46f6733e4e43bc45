use crate::common::*;
use domain::{link::hash_code, link::new_link_code, ports::LinkRepo, RepoError};
use persistence::Database;

pub fn link_code_is_consumed_once(db: &Database) {
    let u = user(db, "ann");
    let (code, rec) = new_link_code(u.id, t0());
    db.insert_link_code(&rec).unwrap();
    let typed = hash_code(&code.to_lowercase());
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| db.consume_link_code(&typed, at(60)).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| **r == Some(u.id)).count(),
        1,
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|r| r.is_none()).count(), 3);
    assert_eq!(db.consume_link_code(&typed, at(61)).unwrap(), None);
    assert_eq!(
        db.consume_link_code(&hash_code("WRONG123"), at(61))
            .unwrap(),
        None
    );
    // The same code cannot be stored twice.
    assert!(matches!(
        db.insert_link_code(&rec),
        Err(RepoError::Conflict(_))
    ));
}

pub fn expired_link_code_is_rejected(db: &Database) {
    let u = user(db, "ann");
    let (_, rec) = new_link_code(u.id, t0());
    db.insert_link_code(&rec).unwrap();
    assert_eq!(
        db.consume_link_code(&rec.code_hash, rec.expires_at)
            .unwrap(),
        None,
        "expiry is exclusive"
    );
    let (_, fresh) = new_link_code(u.id, t0());
    db.insert_link_code(&fresh).unwrap();
    let just_before = fresh.expires_at - chrono::Duration::microseconds(1);
    assert_eq!(
        db.consume_link_code(&fresh.code_hash, just_before).unwrap(),
        Some(u.id)
    );
}
