use crate::common::*;
use domain::{link::hash_code, link::new_link_code, ports::LinkRepo, RepoError};
use persistence::{testing::query_pairs, Database};

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
    // The same live code cannot be stored twice.
    let (_, live) = new_link_code(u.id, at(62));
    db.insert_link_code(&live).unwrap();
    assert!(matches!(
        db.insert_link_code(&live),
        Err(RepoError::Conflict(_))
    ));
}

pub fn spent_and_expired_codes_are_cleared_by_new_ones(db: &Database) {
    let u = user(db, "ann");
    let (spent_code, spent) = new_link_code(u.id, t0());
    db.insert_link_code(&spent).unwrap();
    db.consume_link_code(&hash_code(&spent_code), at(1))
        .unwrap();
    let (_, expiring) = new_link_code(u.id, at(2));
    db.insert_link_code(&expiring).unwrap();
    let (_, live) = new_link_code(u.id, at(3));
    db.insert_link_code(&live).unwrap();
    let hashes = |db: &Database| -> Vec<String> {
        let mut h: Vec<String> =
            query_pairs(db, "SELECT code_hash AS a, user_id AS b FROM link_codes")
                .unwrap()
                .into_iter()
                .map(|(hash, _)| hash)
                .collect();
        h.sort();
        h
    };
    let mut expected = vec![expiring.code_hash.clone(), live.code_hash.clone()];
    expected.sort();
    assert_eq!(hashes(db), expected, "the spent code is gone");
    // Later, when `expiring` has expired and `live` has not.
    let later = expiring.expires_at;
    let (_, newest) = new_link_code(u.id, later);
    db.insert_link_code(&newest).unwrap();
    let mut expected = vec![live.code_hash.clone(), newest.code_hash.clone()];
    expected.sort();
    assert_eq!(
        hashes(db),
        expected,
        "the expired code is gone, the live one stays"
    );
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
