//! Embedded migrations, one set per backend with matching folder names
//! (`migrations/postgres/<name>` and `migrations/sqlite/<name>`), and the operations the CLI
//! (`campus migrate`, `migrate down`, `migrate status`) and `/ready` use.

use crate::connection::{one_line, DbConn};
use crate::database::Database;
use crate::error::DbError;
use diesel::backend::Backend;
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub(crate) const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub(crate) const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

type HarnessError = Box<dyn std::error::Error + Send + Sync>;

fn failed(e: &HarnessError) -> DbError {
    DbError::Migration(one_line(&e.to_string()))
}

/// `(version, folder name)` of every migration in `source`, oldest first.
fn catalogue<DB: Backend>(source: &EmbeddedMigrations) -> Result<Vec<(String, String)>, DbError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let mut all: Vec<(String, String)> = MigrationSource::<DB>::migrations(source)
        .map_err(|e| failed(&e))?
        .iter()
        .map(|m| (m.name().version().to_string(), m.name().to_string()))
        .collect();
    all.sort();
    Ok(all)
}

fn name_of(catalogue: &[(String, String)], version: &MigrationVersion<'_>) -> String {
    let v = version.to_string();
    catalogue
        .iter()
        .find(|(cv, _)| *cv == v)
        .map_or(v, |(_, name)| name.clone())
}

fn up<DB: Backend, C: MigrationHarness<DB>>(
    conn: &mut C,
    source: EmbeddedMigrations,
) -> Result<Vec<String>, DbError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let cat = catalogue::<DB>(&source)?;
    let applied = conn
        .run_pending_migrations(source)
        .map_err(|e| failed(&e))?;
    Ok(applied.iter().map(|v| name_of(&cat, v)).collect())
}

fn down<DB: Backend, C: MigrationHarness<DB>>(
    conn: &mut C,
    source: fn() -> EmbeddedMigrations,
    steps: usize,
) -> Result<Vec<String>, DbError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let cat = catalogue::<DB>(&source())?;
    let mut reverted = Vec::new();
    for _ in 0..steps {
        if conn
            .applied_migrations()
            .map_err(|e| failed(&e))?
            .is_empty()
        {
            break;
        }
        let v = conn
            .revert_last_migration(source())
            .map_err(|e| failed(&e))?;
        reverted.push(name_of(&cat, &v));
    }
    Ok(reverted)
}

fn status<DB: Backend, C: MigrationHarness<DB>>(
    conn: &mut C,
    source: EmbeddedMigrations,
) -> Result<Vec<(String, bool)>, DbError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let cat = catalogue::<DB>(&source)?;
    let applied: Vec<String> = conn
        .applied_migrations()
        .map_err(|e| failed(&e))?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(cat
        .into_iter()
        .map(|(v, name)| (name, applied.contains(&v)))
        .collect())
}

impl Database {
    /// Applies every pending migration, each in its own transaction; returns their names.
    pub fn migrate_up(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.conn()?;
        match &mut *conn {
            DbConn::Postgres(c) => up(c, POSTGRES),
            DbConn::Sqlite(c) => up(c, SQLITE),
        }
    }

    /// Reverts the last `steps` applied migrations (fewer if fewer are applied); returns their
    /// names, newest first.
    pub fn migrate_down(&self, steps: usize) -> Result<Vec<String>, DbError> {
        let mut conn = self.conn()?;
        match &mut *conn {
            DbConn::Postgres(c) => down(c, || POSTGRES, steps),
            DbConn::Sqlite(c) => down(c, || SQLITE, steps),
        }
    }

    /// Every known migration, oldest first, with whether it is applied.
    pub fn migration_status(&self) -> Result<Vec<(String, bool)>, DbError> {
        let mut conn = self.conn()?;
        match &mut *conn {
            DbConn::Postgres(c) => status(c, POSTGRES),
            DbConn::Sqlite(c) => status(c, SQLITE),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn names<DB: Backend>(source: &EmbeddedMigrations) -> Vec<String>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        catalogue::<DB>(source)
            .unwrap()
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migration_names() {
        let pg = names::<diesel::pg::Pg>(&POSTGRES);
        let lite = names::<diesel::sqlite::Sqlite>(&SQLITE);
        assert!(!pg.is_empty());
        assert_eq!(pg, lite);
    }

    /// Each enum column's CHECK list is exactly the domain enum's spellings, on both backends.
    #[test]
    fn check_constraints_list_exactly_the_domain_enums() {
        use domain::{
            attempt::AttemptStatus, content::LessonKind, grading::Verdict, task::TaskKind,
            user::Role,
        };
        let quoted = |all: Vec<&str>| {
            all.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let expected = [
            (
                "role IN (",
                quoted(Role::ALL.iter().map(|r| r.as_str()).collect()),
            ),
            (
                "kind IN ('article'",
                quoted(LessonKind::ALL.iter().map(|r| r.as_str()).collect()),
            ),
            (
                "kind IN ('reading'",
                quoted(TaskKind::ALL.iter().map(|r| r.as_str()).collect()),
            ),
            (
                "status IN (",
                quoted(AttemptStatus::ALL.iter().map(|r| r.as_str()).collect()),
            ),
            (
                "verdict IN (",
                quoted(Verdict::ALL.iter().map(|r| r.as_str()).collect()),
            ),
        ];
        for sql in [
            include_str!("../../../migrations/postgres/2026-12-03-000001_init/up.sql"),
            include_str!("../../../migrations/sqlite/2026-12-03-000001_init/up.sql"),
        ] {
            for (anchor, list) in &expected {
                let at = sql
                    .find(anchor)
                    .unwrap_or_else(|| panic!("no CHECK starting {anchor:?}"));
                let open = at + sql[at..].find('(').unwrap() + 1;
                let close = open + sql[open..].find(')').unwrap();
                assert_eq!(&sql[open..close], list.as_str(), "CHECK list at {anchor:?}");
            }
        }
    }
}
