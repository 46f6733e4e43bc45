use domain::ports::DatabaseAdmin;
use persistence::{testing::table_columns, Database};

pub fn migrations_go_up_down_and_up_again(db: &Database) {
    let status = db.migration_status().unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|(_, applied)| *applied), "{status:?}");
    assert!(db.pending_migrations().unwrap().is_empty());
    assert!(db.migrate_up().unwrap().is_empty(), "nothing left to apply");
    let tables = table_columns(db);
    assert!(
        tables.contains_key("users") && tables.contains_key("link_codes"),
        "{tables:?}"
    );

    let reverted = db.migrate_down(usize::MAX).unwrap();
    assert_eq!(reverted.len(), status.len());
    assert!(
        table_columns(db).is_empty(),
        "down removes every table: {:?}",
        table_columns(db)
    );
    assert!(db
        .migration_status()
        .unwrap()
        .iter()
        .all(|(_, applied)| !applied));
    assert_eq!(db.pending_migrations().unwrap().len(), status.len());
    assert!(
        db.migrate_down(1).unwrap().is_empty(),
        "nothing left to revert"
    );

    let applied = db.migrate_up().unwrap();
    assert_eq!(
        applied,
        status.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
    );
    assert_eq!(table_columns(db), tables);
    db.ping().unwrap();
}
