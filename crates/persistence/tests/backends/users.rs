use crate::common::*;
use domain::{
    attempt::Page,
    ports::UserRepo,
    user::{Role, Username},
    RepoError,
};
use persistence::Database;

pub fn usernames_are_unique_regardless_of_case(db: &Database) {
    user(db, "Ann");
    for taken in ["ann", "ANN", "Ann"] {
        match db.insert_user(&new_user(taken)) {
            Err(RepoError::Conflict(m)) => assert!(m.contains("username"), "{m}"),
            other => panic!("{taken}: expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(db.count_users().unwrap(), 1);
    user(db, "anna");
    assert_eq!(db.count_users().unwrap(), 2);
}

pub fn racing_signups_for_one_username_let_exactly_one_win(db: &Database) {
    let names = ["Bob", "bob", "BOB", "boB", "bOb", "BoB"];
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| s.spawn(move || db.insert_user(&new_user(n))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(RepoError::Conflict(_))))
        .count();
    assert_eq!((won, conflicts), (1, names.len() - 1), "{results:?}");
    assert_eq!(db.count_users().unwrap(), 1);
}

pub fn external_and_telegram_ids_are_unique(db: &Database) {
    let mut a = new_user("alice");
    a.external_id_hash = Some("ext-1".into());
    a.telegram_user_id = Some(42);
    let a = db.insert_user(&a).unwrap();

    let mut b = new_user("bert");
    b.external_id_hash = Some("ext-1".into());
    assert!(
        matches!(db.insert_user(&b), Err(RepoError::Conflict(m)) if m.contains("external identity"))
    );

    let mut c = new_user("carl");
    c.telegram_user_id = Some(42);
    assert!(matches!(db.insert_user(&c), Err(RepoError::Conflict(m)) if m.contains("Telegram")));

    // Accounts without either id do not collide (NULLs are not equal).
    let d = user(db, "dora");
    user(db, "emil");
    match db.set_telegram_id(d.id, Some(42), at(5)) {
        Err(RepoError::Conflict(m)) => assert!(m.contains("Telegram"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Unlinking frees the id for another account.
    db.set_telegram_id(a.id, None, at(6)).unwrap();
    let d = db.set_telegram_id(d.id, Some(42), at(7)).unwrap();
    assert_eq!(db.user_by_telegram_id(42).unwrap().unwrap().id, d.id);
}

pub fn users_are_found_by_every_key_and_role_changes_stick(db: &Database) {
    let mut n = new_user("Zoe_1");
    n.external_id_hash = Some("h-zoe".into());
    n.telegram_user_id = Some(7);
    let zoe = db.insert_user(&n).unwrap();
    assert_eq!(zoe.username.as_str(), "Zoe_1", "the spelling is kept");
    assert_eq!(db.user_by_id(zoe.id).unwrap().as_ref(), Some(&zoe));
    assert_eq!(
        db.user_by_username(&Username::parse("zoe_1").unwrap())
            .unwrap()
            .as_ref(),
        Some(&zoe)
    );
    assert_eq!(
        db.user_by_external_id("h-zoe").unwrap().as_ref(),
        Some(&zoe)
    );
    assert_eq!(db.user_by_telegram_id(7).unwrap().as_ref(), Some(&zoe));
    assert_eq!(
        db.user_by_username(&Username::parse("nobody").unwrap())
            .unwrap(),
        None
    );
    assert_eq!(db.user_by_id(uuid::Uuid::new_v4()).unwrap(), None);

    let t = db.set_role(zoe.id, Role::Teacher, at(60)).unwrap();
    assert_eq!(t.role, Role::Teacher);
    assert_eq!(t.updated_at, at(60));
    assert_eq!(t.created_at, zoe.created_at);
    assert_eq!(db.user_by_id(zoe.id).unwrap().unwrap().role, Role::Teacher);
    assert!(matches!(
        db.set_role(uuid::Uuid::new_v4(), Role::Admin, at(61)),
        Err(RepoError::NotFound(_))
    ));

    for name in ["user2", "user3", "user4"] {
        user(db, name);
    }
    let page = db.list_users(Page::new(Some(2), Some(1)).unwrap()).unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(db.count_users().unwrap(), 4);
}

pub fn stored_times_come_back_equal_and_utc(db: &Database) {
    let mut n = new_user("timely");
    // Microsecond precision is kept exactly...
    n.created_at = t0();
    let u = db.insert_user(&n).unwrap();
    let back = db.user_by_id(u.id).unwrap().unwrap();
    assert_eq!(back.created_at, t0());
    assert_eq!(back.created_at.timezone(), chrono::Utc);
    assert_eq!(
        back.created_at.to_rfc3339(),
        "2026-12-03T10:00:00.123456+00:00"
    );

    // ...and a time given in another zone is the same instant when read back.
    let paris = chrono::FixedOffset::east_opt(3600).unwrap();
    let local = at(3600).with_timezone(&paris);
    let u = db
        .set_role(u.id, Role::Admin, local.with_timezone(&chrono::Utc))
        .unwrap();
    assert_eq!(db.user_by_id(u.id).unwrap().unwrap().updated_at, local);

    // Nanoseconds are cut to microseconds on both backends alike.
    let mut n = new_user("nanos");
    n.created_at = t0() + chrono::Duration::nanoseconds(789);
    let u = db.insert_user(&n).unwrap();
    assert_eq!(db.user_by_id(u.id).unwrap().unwrap().created_at, t0());
}
