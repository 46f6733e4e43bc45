//! Test support for this crate's tests and other crates' (feature `testing`): fresh, migrated
//! databases. Every call gets its own database: a SQLite file in a temporary directory, or a
//! PostgreSQL schema of its own on the server at `TEST_POSTGRES_URL`
//! (default `postgres://127.0.0.1:5432/test`). A missing PostgreSQL fails the test, loudly.
//!
//! These helpers panic on failure: they only ever run inside tests.

use crate::connection::{one_line, DbConn};
use crate::error::DbResultExt;
use crate::{Database, DatabaseUrl};
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::RunQueryDsl;
use domain::RepoError;
use std::collections::{BTreeMap, BTreeSet};

pub use tempfile::TempDir;

pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://127.0.0.1:5432/test";

/// How a test says PostgreSQL is missing. Tests never skip.
pub const START_POSTGRES_HINT: &str = "PostgreSQL is required by this test and is not reachable. Start it with \
     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or point TEST_POSTGRES_URL at a \
     server (default postgres://127.0.0.1:5432/test)";

const POOL_SIZE: u32 = 4;
/// Schemas older than this are left-overs of earlier runs and are dropped.
const STALE_SCHEMA_SECS: u64 = 3600;

/// A migrated SQLite database in a new temporary directory; keep the `TempDir` alive as long
/// as the database is used.
pub fn fresh_sqlite() -> (Database, TempDir) {
    let dir =
        tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
    let path = dir.path().join("campus-test.db");
    let url = DatabaseUrl::Sqlite(path.to_string_lossy().into_owned());
    let db =
        Database::connect(&url, POOL_SIZE).unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    db.migrate_up()
        .unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
    (db, dir)
}

/// The PostgreSQL server tests use: `TEST_POSTGRES_URL`, or the local default.
pub fn postgres_base_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_POSTGRES_URL.to_string())
}

/// A migrated PostgreSQL schema of its own (`t_<seconds>_<random>`), reached through a URL
/// whose `search_path` is that schema.
pub fn fresh_postgres() -> Database {
    fresh_postgres_unmigrated_inner(true)
}

/// Like [`fresh_postgres`], without running the migrations.
pub fn fresh_postgres_unmigrated() -> Database {
    fresh_postgres_unmigrated_inner(false)
}

/// Like [`fresh_sqlite`], without running the migrations.
pub fn fresh_sqlite_unmigrated() -> (Database, TempDir) {
    let dir =
        tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
    let url = DatabaseUrl::Sqlite(
        dir.path()
            .join("campus-test.db")
            .to_string_lossy()
            .into_owned(),
    );
    let db =
        Database::connect(&url, POOL_SIZE).unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    (db, dir)
}

fn fresh_postgres_unmigrated_inner(migrate: bool) -> Database {
    let base = postgres_base_url();
    let base_url = DatabaseUrl::parse(&base).unwrap_or_else(|e| panic!("TEST_POSTGRES_URL: {e}"));
    if !matches!(base_url, DatabaseUrl::Postgres(_)) {
        panic!("TEST_POSTGRES_URL must be a postgres:// URL, not {base_url}");
    }
    let admin =
        Database::connect(&base_url, 1).unwrap_or_else(|e| panic!("{e}\n{START_POSTGRES_HINT}"));
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    drop_stale_schemas(&admin, secs);
    let schema = format!(
        "t_{secs}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    execute_raw(&admin, &format!("CREATE SCHEMA {schema}"))
        .unwrap_or_else(|e| panic!("cannot create schema: {e}"));
    drop(admin);
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = DatabaseUrl::Postgres(format!("{base}{sep}options=-csearch_path%3D{schema}"));
    let db =
        Database::connect(&url, POOL_SIZE).unwrap_or_else(|e| panic!("{e}\n{START_POSTGRES_HINT}"));
    if migrate {
        db.migrate_up()
            .unwrap_or_else(|e| panic!("cannot migrate schema {schema}: {e}"));
    }
    db
}

/// Best effort: a failure here must not fail the test that happened to run it.
fn drop_stale_schemas(admin: &Database, now_secs: u64) {
    let Ok(rows) = query_pairs(
        admin,
        "SELECT nspname::text AS a, ''::text AS b FROM pg_namespace WHERE nspname LIKE 't\\_%'",
    ) else {
        return;
    };
    for (name, _) in rows {
        let born = name.split('_').nth(1).and_then(|s| s.parse::<u64>().ok());
        if born.is_some_and(|b| b + STALE_SCHEMA_SECS < now_secs) {
            let _ = execute_raw(admin, &format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
        }
    }
}

/// Runs raw SQL (one or more statements) on a pooled connection. For tests that must go around
/// the typed API, e.g. to write a row the API would refuse.
pub fn execute_raw(db: &Database, sql: &str) -> Result<(), RepoError> {
    db.read(|conn| conn.batch_execute(sql).repo())
}

#[derive(diesel::QueryableByName)]
struct Pair {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
}

/// Runs a query returning two text columns named `a` and `b`.
pub fn query_pairs(db: &Database, sql: &str) -> Result<Vec<(String, String)>, RepoError> {
    db.read(|conn| {
        let rows: Vec<Pair> = match conn {
            DbConn::Postgres(c) => diesel::sql_query(sql).load(c).repo()?,
            DbConn::Sqlite(c) => diesel::sql_query(sql).load(c).repo()?,
        };
        Ok(rows.into_iter().map(|p| (p.a, p.b)).collect())
    })
}

/// Every table of the database (but diesel's migration table) with its column names, read
/// from the database itself: `pragma_table_info` on SQLite, `information_schema` on PostgreSQL.
pub fn table_columns(db: &Database) -> BTreeMap<String, BTreeSet<String>> {
    columns_where(db, "1 = 1", "1 = 1")
}

/// The nullable columns of every table (but diesel's), as `table.column`.
pub fn nullable_columns(db: &Database) -> BTreeSet<String> {
    columns_where(db, "p.\"notnull\" = 0", "is_nullable = 'YES'")
        .into_iter()
        .flat_map(|(t, cols)| cols.into_iter().map(move |c| format!("{t}.{c}")))
        .collect()
}

fn columns_where(
    db: &Database,
    sqlite_cond: &str,
    pg_cond: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let sql = match db.backend() {
        crate::Backend::Sqlite => format!(
            "SELECT m.name AS a, p.name AS b FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND {sqlite_cond}"
        ),
        crate::Backend::Postgres => format!(
            "SELECT table_name::text AS a, column_name::text AS b FROM information_schema.columns \
             WHERE table_schema = current_schema() AND {pg_cond}"
        ),
    };
    let rows = query_pairs(db, &sql)
        .unwrap_or_else(|e| panic!("cannot introspect the schema: {}", one_line(&e.to_string())));
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in rows {
        if table != "__diesel_schema_migrations" {
            out.entry(table).or_default().insert(column);
        }
    }
    out
}

/// A SQLite pragma's current value on a pooled connection (e.g. `foreign_keys`).
pub fn sqlite_pragma(db: &Database, name: &str) -> String {
    let sql = format!("SELECT CAST((SELECT * FROM pragma_{name}) AS TEXT) AS a, '' AS b");
    let rows = query_pairs(db, &sql).unwrap_or_else(|e| panic!("pragma {name}: {e}"));
    rows.into_iter().next().map(|(a, _)| a).unwrap_or_default()
}
