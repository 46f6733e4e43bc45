//! One schema, two backends: `src/schema.rs` (what diesel compiles against) must describe
//! exactly the tables the migrations create, on both backends. The old backend had two ORM
//! bases and its tests ran without some tables; these tests make that impossible to miss.

use persistence::{testing, Database, DatabaseUrl, DbError};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Tables and columns declared by the `diesel::table!` blocks of `src/schema.rs`.
fn declared_schema() -> BTreeMap<String, BTreeSet<String>> {
    declared().0
}

/// The `Nullable<...>` columns of `src/schema.rs`, as `table.column`.
fn declared_nullable() -> BTreeSet<String> {
    declared().1
}

fn declared() -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let mut nullable = BTreeSet::new();
    let text = std::fs::read_to_string(src_dir().join("schema.rs")).unwrap();
    let mut out = BTreeMap::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "diesel::table! {" {
            continue;
        }
        let header = lines.next().unwrap();
        let table = header.split_whitespace().next().unwrap().to_string();
        let mut cols = BTreeSet::new();
        for l in lines.by_ref() {
            if l == "}" {
                break;
            }
            if let Some((name, ty)) = l.split_once("->") {
                cols.insert(name.trim().to_string());
                if ty.trim().starts_with("Nullable<") {
                    nullable.insert(format!("{table}.{}", name.trim()));
                }
            }
        }
        out.insert(table, cols);
    }
    assert!(out.len() >= 10, "schema.rs parsed to {out:?}");
    assert!(nullable.contains("users.password_hash"), "{nullable:?}");
    (out, nullable)
}

pub fn schema_rs_matches_the_migrated_tables(db: &Database) {
    assert_eq!(testing::table_columns(db), declared_schema());
    assert_eq!(
        testing::nullable_columns(db),
        declared_nullable(),
        "nullability differs from schema.rs"
    );
}

#[test]
fn both_backends_end_with_the_same_tables_and_columns() {
    let (lite, _dir) = testing::fresh_sqlite();
    let pg = testing::fresh_postgres();
    let a = testing::table_columns(&lite);
    let b = testing::table_columns(&pg);
    assert!(a.len() >= 10, "{a:?}");
    assert_eq!(a, b);
    assert_eq!(
        testing::nullable_columns(&lite),
        testing::nullable_columns(&pg)
    );
}

#[test]
fn there_is_exactly_one_schema_file() {
    let mut with_tables = Vec::new();
    let mut stack = vec![src_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains(concat!("table", "! {")) {
                    with_tables.push(path.strip_prefix(src_dir()).unwrap().display().to_string());
                }
            }
        }
    }
    assert_eq!(with_tables, vec!["schema.rs".to_string()]);
}

#[test]
fn sqlite_connections_get_their_pragmas() {
    let (db, _dir) = testing::fresh_sqlite();
    // Several times: the pool hands out different connections, and each must be set up.
    for _ in 0..6 {
        assert_eq!(testing::sqlite_pragma(&db, "foreign_keys"), "1");
        assert_eq!(testing::sqlite_pragma(&db, "journal_mode"), "wal");
        assert_eq!(testing::sqlite_pragma(&db, "busy_timeout"), "5000");
        assert_eq!(testing::sqlite_pragma(&db, "synchronous"), "1", "NORMAL");
    }
}

#[test]
fn unreachable_postgres_is_a_one_line_error_naming_host_and_port() {
    // Port 1 on loopback: nothing listens there, the refusal is immediate.
    let url = DatabaseUrl::parse("postgres://campus:secret@127.0.0.1:1/campus").unwrap();
    let e = Database::connect(&url, 2).unwrap_err();
    assert!(matches!(e, DbError::Connect(_)), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1:"),
        "{msg}"
    );
    assert!(!msg.contains('\n') && !msg.contains("secret"), "{msg}");
    println!("{msg}");
}

#[test]
fn sqlite_file_in_a_missing_directory_is_a_one_line_error() {
    let url = DatabaseUrl::parse("sqlite:///nonexistent-dir-campus/x/campus.db").unwrap();
    let msg = Database::connect(&url, 1).unwrap_err().to_string();
    assert!(
        msg.starts_with("cannot open SQLite database \"/nonexistent-dir-campus/x/campus.db\""),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn the_default_url_is_an_sqlite_file() {
    assert_eq!(
        DatabaseUrl::parse(persistence::DEFAULT_DATABASE_URL).unwrap(),
        DatabaseUrl::Sqlite("campus.db".into())
    );
}
