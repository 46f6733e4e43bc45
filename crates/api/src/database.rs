//! Opening the database from the configuration, for the server and the CLI.

use crate::config::Config;
use anyhow::{anyhow, bail};
use persistence::{Backend, Database, DatabaseUrl};
use secrecy::ExposeSecret;

/// Connects to `DATABASE_URL` (one connection is opened right away, so an unreachable server
/// is reported here). Blocking: call it from `spawn_blocking` in async code.
pub fn open(config: &Config) -> anyhow::Result<Database> {
    let url = DatabaseUrl::parse(config.database_url.expose_secret())
        .map_err(|e| anyhow!("DATABASE_URL: {e}"))?;
    Database::connect(&url, config.database_pool_size).map_err(|e| anyhow!("{e}"))
}

/// What `campus serve` needs: a SQLite file is migrated on the spot (it is the zero-set-up
/// default); PostgreSQL with pending migrations is refused, because migrating a shared
/// production database is an operator's decision (`campus migrate`).
pub fn open_for_serving(config: &Config) -> anyhow::Result<Database> {
    let db = open(config)?;
    match db.backend() {
        Backend::Sqlite => {
            let applied = db.migrate_up().map_err(|e| anyhow!("{e}"))?;
            if !applied.is_empty() {
                tracing::info!(count = applied.len(), "applied SQLite migrations");
            }
        }
        Backend::Postgres => {
            let pending: Vec<String> = db
                .migration_status()
                .map_err(|e| anyhow!("{e}"))?
                .into_iter()
                .filter(|(_, applied)| !applied)
                .map(|(name, _)| name)
                .collect();
            if !pending.is_empty() {
                bail!(
                    "the PostgreSQL database has {} pending migration(s) ({}); run `campus migrate` first",
                    pending.len(),
                    pending.join(", ")
                );
            }
        }
    }
    Ok(db)
}
