//! `DatabaseAdmin`: liveness and pending migrations, for `/ready` and the CLI.

use crate::database::Database;
use crate::error::{DbError, DbResultExt};
use diesel::connection::SimpleConnection;
use domain::{ports::DatabaseAdmin, RepoError};

impl DatabaseAdmin for Database {
    fn ping(&self) -> Result<(), RepoError> {
        // `/ready` calls this: answer within a couple of seconds even when the database is gone.
        let mut conn = self.conn_within(std::time::Duration::from_secs(2))?;
        conn.batch_execute("SELECT 1").repo()
    }

    fn pending_migrations(&self) -> Result<Vec<String>, RepoError> {
        let status = self.migration_status().map_err(|e| match e {
            DbError::Repo(r) => r,
            other => RepoError::Internal(other.to_string()),
        })?;
        Ok(status
            .into_iter()
            .filter(|(_, applied)| !applied)
            .map(|(name, _)| name)
            .collect())
    }
}
