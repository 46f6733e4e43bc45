//! [`Database`]: the pool, the transaction helpers the repositories use, and migrations.

use crate::connection::{describe_connect_error, DbConn, Manager};
use crate::error::{DbError, DbResultExt};
use crate::url::DatabaseUrl;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::result::Error as DieselError;
use domain::RepoError;
use std::time::Duration;

/// How long a caller waits for a pooled connection before getting `Unavailable`.
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The storage adapter: a connection pool that implements every port of `domain::ports`.
/// Cheap to clone. Every method takes a pooled connection itself and blocks: call it from
/// `web::block` or `spawn_blocking`, never on an async worker.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
    url: std::sync::Arc<DatabaseUrl>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

pub(crate) type Conn = PooledConnection<Manager>;

impl Database {
    /// Opens a pool of `pool_size` connections (at least 1). One connection is opened right away,
    /// so an unreachable server or an unopenable file is reported here, as one line.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        let manager = Manager::new(url.clone());
        let first = manager
            .connect()
            .map_err(|e| DbError::Connect(describe_connect_error(url, &e)))?;
        drop(first);
        let backend = match url {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        };
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            // No idle connections kept in reserve: r2d2 opens those on its own threads, and
            // a process that exits while one is in libpq's connect crashes in OpenSSL's exit
            // handler (`campus migrate` on PostgreSQL died with SIGSEGV about one run in
            // eight). Connections are opened when asked for, and returned ones are reused.
            .min_idle(Some(0))
            .connection_timeout(POOL_TIMEOUT)
            .error_handler(Box::new(PoolErrorLogger))
            .build_unchecked(manager);
        Ok(Self {
            pool,
            backend,
            url: std::sync::Arc::new(url.clone()),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection; a timeout or a connection failure is `Unavailable`.
    pub(crate) fn conn(&self) -> Result<Conn, RepoError> {
        self.conn_within(POOL_TIMEOUT)
    }

    /// Like [`Self::conn`] with a caller-chosen wait (readiness probes must answer quickly).
    pub(crate) fn conn_within(&self, wait: Duration) -> Result<Conn, RepoError> {
        self.pool.get_timeout(wait).map_err(|e| {
            RepoError::Unavailable(format!(
                "{} ({})",
                describe_target(&self.url),
                crate::connection::one_line(&e.to_string())
            ))
        })
    }

    /// Runs `f` on a pooled connection, outside any transaction (single reads).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs `f` in one write transaction, committed when `f` returns `Ok`, rolled back otherwise.
    /// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front, so two writers queue
    /// on `busy_timeout` instead of failing to upgrade a read lock.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = self.conn()?;
        transaction(&mut conn, Mode::Write, f)
    }

    /// Runs `f` in a read-only transaction that sees one snapshot (several queries that must
    /// agree, such as an export while an import commits).
    pub(crate) fn snapshot<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = self.conn()?;
        transaction(&mut conn, Mode::Snapshot, f)
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Mode {
    Write,
    Snapshot,
}

/// The transaction behind [`Database::write`] and [`Database::snapshot`].
pub(crate) fn transaction<T>(
    conn: &mut DbConn,
    mode: Mode,
    f: impl FnOnce(&mut DbConn) -> Result<T, RepoError>,
) -> Result<T, RepoError> {
    let begin = match (&*conn, mode) {
        (DbConn::Postgres(_), Mode::Write) => "BEGIN",
        (DbConn::Postgres(_), Mode::Snapshot) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        (DbConn::Sqlite(_), Mode::Write) => "BEGIN IMMEDIATE",
        // A deferred transaction's first read fixes its WAL snapshot.
        (DbConn::Sqlite(_), Mode::Snapshot) => "BEGIN",
    };
    match conn {
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(c, begin).repo()?,
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, begin).repo()?,
    }
    let result = f(conn);
    let end = match (&result, &mut *conn) {
        (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConn::Postgres(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (result, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(crate::error::repo_error(e)),
        // The caller's error says more than a failed rollback (which also marks the
        // connection broken, so the pool drops it).
        (Err(e), _) => Err(e),
    }
}

/// Runs `f` in a savepoint inside the current transaction; a failure inside it rolls back only
/// the savepoint (PostgreSQL would otherwise abort the whole transaction).
pub(crate) fn savepoint<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, DieselError>,
) -> Result<T, DieselError> {
    diesel::Connection::transaction(conn, f)
}

fn describe_target(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Postgres(_) => {
            format!(
                "PostgreSQL at {} unreachable",
                url.postgres_target().unwrap_or_default()
            )
        }
        DatabaseUrl::Sqlite(path) => format!("SQLite database {path:?} unavailable"),
    }
}

/// r2d2 reports background connection failures here; log them once per failure, one line.
#[derive(Debug)]
struct PoolErrorLogger;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for PoolErrorLogger {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(error = %crate::connection::one_line(&error.to_string()), "database connection failed");
    }
}
