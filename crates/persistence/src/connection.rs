//! One connection type for both backends and the r2d2 manager that opens the right one.
//!
//! The backend comes from the parsed [`DatabaseUrl`], never from diesel's guessing
//! `MultiConnection::establish`. SQLite connections get their pragmas on every open, because
//! pragmas such as `foreign_keys` are per connection, not per file.

use crate::url::DatabaseUrl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{Error as PoolError, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// PostgreSQL first, SQLite last (the derive tries variants in order).
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Set on every new SQLite connection. `busy_timeout` first: switching to WAL needs a lock.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;\
     PRAGMA journal_mode = WAL;\
     PRAGMA synchronous = NORMAL;\
     PRAGMA foreign_keys = ON;";

/// Seconds libpq waits for a server before giving up, unless the URL says otherwise.
const PG_CONNECT_TIMEOUT_SECS: u32 = 5;

pub(crate) struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub(crate) fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    fn pg_url(url: &str) -> String {
        if url.contains("connect_timeout=") {
            url.to_string()
        } else {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_SECS}")
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = PoolError;

    fn connect(&self) -> Result<DbConn, PoolError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(&Self::pg_url(url))
                .map(DbConn::Postgres)
                .map_err(PoolError::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(PoolError::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(PoolError::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), PoolError> {
        conn.ping().map_err(PoolError::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// A connection failure as one line: where, and why (libpq's message spans several lines).
pub(crate) fn describe_connect_error(url: &DatabaseUrl, err: &PoolError) -> String {
    let why = one_line(&err.to_string());
    match url {
        DatabaseUrl::Postgres(_) => {
            let target = url.postgres_target().unwrap_or_default();
            format!("cannot connect to PostgreSQL at {target}: {why}")
        }
        DatabaseUrl::Sqlite(path) => format!("cannot open SQLite database {path:?}: {why}"),
    }
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
