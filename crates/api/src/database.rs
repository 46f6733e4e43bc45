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

/// What a process beside the servers needs (`campus bot`): the servers' database, already
/// migrated. It never creates or migrates one, so a bot started with the wrong `DATABASE_URL`
/// (a relative SQLite path from another folder) stops with a clear line instead of serving
/// an empty database.
pub fn open_existing(config: &Config) -> anyhow::Result<Database> {
    let url = DatabaseUrl::parse(config.database_url.expose_secret())
        .map_err(|e| anyhow!("DATABASE_URL: {e}"))?;
    if let DatabaseUrl::Sqlite(path) = &url {
        if !std::path::Path::new(path).exists() {
            bail!(
                "DATABASE_URL: the SQLite file {path} does not exist; use the servers' database \
                 (a relative path is relative to the working folder)"
            );
        }
    }
    let db = Database::connect(&url, config.database_pool_size).map_err(|e| anyhow!("{e}"))?;
    let pending = db
        .migration_status()
        .map_err(|e| anyhow!("{e}"))?
        .into_iter()
        .filter(|(_, applied)| !applied)
        .count();
    if pending > 0 {
        bail!(
            "the database has {pending} pending migration(s); run `campus migrate` (or start \
             `campus serve` once on SQLite) first"
        );
    }
    Ok(db)
}
