use crate::common::*;
use domain::{ports::TokenRepo, user::RefreshToken};
use persistence::Database;
use uuid::Uuid;

fn token(hash: &str, family: Uuid, user: Uuid) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        family_id: family,
        user_id: user,
        expires_at: at(3600),
        created_at: t0(),
        rotated_at: None,
        revoked_at: None,
    }
}

pub fn refresh_token_rotates_once_and_reuse_returns_false(db: &Database) {
    let u = user(db, "ann");
    let fam = Uuid::new_v4();
    let first = token("h1", fam, u.id);
    db.insert_refresh_token(&first).unwrap();
    assert_eq!(db.refresh_token("h1").unwrap(), Some(first));

    assert!(db
        .rotate_refresh_token("h1", &token("h2", fam, u.id), at(10))
        .unwrap());
    let old = db.refresh_token("h1").unwrap().unwrap();
    assert_eq!(old.rotated_at, Some(at(10)));
    assert!(db.refresh_token("h2").unwrap().is_some());

    // Reusing the rotated token changes nothing.
    assert!(!db
        .rotate_refresh_token("h1", &token("h3", fam, u.id), at(20))
        .unwrap());
    assert_eq!(db.refresh_token("h3").unwrap(), None);
    // An unknown token is a reuse too.
    assert!(!db
        .rotate_refresh_token("nope", &token("h4", fam, u.id), at(20))
        .unwrap());
    assert_eq!(db.refresh_token("h4").unwrap(), None);
    // The new one rotates normally.
    assert!(db
        .rotate_refresh_token("h2", &token("h5", fam, u.id), at(30))
        .unwrap());
}

pub fn racing_rotations_of_one_token_let_exactly_one_win(db: &Database) {
    let u = user(db, "ann");
    let fam = Uuid::new_v4();
    db.insert_refresh_token(&token("root", fam, u.id)).unwrap();
    let results: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..6)
            .map(|i| {
                s.spawn(move || {
                    db.rotate_refresh_token("root", &token(&format!("n{i}"), fam, u.id), at(1))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| **r).count(), 1, "{results:?}");
    let stored = (0..6)
        .filter(|i| db.refresh_token(&format!("n{i}")).unwrap().is_some())
        .count();
    assert_eq!(stored, 1);
}

pub fn revoking_a_family_stops_its_rotation(db: &Database) {
    let u = user(db, "ann");
    let fam = Uuid::new_v4();
    let other = Uuid::new_v4();
    db.insert_refresh_token(&token("a", fam, u.id)).unwrap();
    db.insert_refresh_token(&token("x", other, u.id)).unwrap();
    db.revoke_family(fam, at(5)).unwrap();
    assert_eq!(
        db.refresh_token("a").unwrap().unwrap().revoked_at,
        Some(at(5))
    );
    assert!(!db
        .rotate_refresh_token("a", &token("b", fam, u.id), at(6))
        .unwrap());
    // Another family is untouched.
    assert_eq!(db.refresh_token("x").unwrap().unwrap().revoked_at, None);
    assert!(db
        .rotate_refresh_token("x", &token("y", other, u.id), at(6))
        .unwrap());
}
