//! The `campus` command line: serve, migrate, import/export courses, manage users.

use crate::{auth::password, config::Config, database, server::Server};
use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use domain::user::{NewUser, Password, Role, Username};
use std::{
    io::{IsTerminal, Read, Write},
    path::PathBuf,
};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    name = "campus",
    version,
    about = "Campus: a programming-learning platform's backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default). Migrates a SQLite database by itself; refuses a
    /// PostgreSQL database with pending migrations.
    Serve,
    /// Apply pending migrations (`campus migrate`), or show/revert them.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Import a course file (or HumanEval.jsonl.gz). Validates everything before writing, in
    /// one transaction; importing again updates by slug.
    Import { path: PathBuf },
    /// Export the course in the import format, to PATH or standard output (`-`, the default).
    Export { path: Option<PathBuf> },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Run the Telegram bot (long polling) that links Telegram accounts to Campus accounts.
    /// Needs TELEGRAM_BOT_TOKEN; run exactly one per token.
    Bot,
    /// Grade a program against a task in the sandbox, or every HumanEval canonical solution,
    /// without a server or a database.
    Check(crate::cli_check::CheckArgs),
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (same as `campus migrate`).
    Up,
    /// List migrations and whether each is applied.
    Status,
    /// Revert the last applied migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account. The password is read from standard input when it is not a terminal,
    /// otherwise prompted for (twice, without echo). It is never an argument.
    Create {
        name: String,
        #[arg(long, value_parser = parse_role, default_value = "student")]
        role: Role,
    },
    /// Change an account's role.
    Role {
        name: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.message)
}

fn parse_username(s: &str) -> anyhow::Result<Username> {
    Username::parse(s).map_err(|e| anyhow!("NAME: {}", e.message))
}

/// Runs one command to completion.
pub fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config),
        Command::Migrate { action } => migrate(&config, action.unwrap_or(MigrateAction::Up)),
        Command::Import { path } => import(&config, &path),
        Command::Export { path } => export(&config, path),
        Command::User {
            action: UserAction::Create { name, role },
        } => create_user(&config, &name, role),
        Command::User {
            action: UserAction::Role { name, role },
        } => set_role(&config, &name, role),
        Command::Check(args) => check(&config, args),
        Command::Bot => bot(config),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let warnings = config.warnings.clone();
    runtime.block_on(async move {
        let server = Server::build(config).await?;
        // After a successful start, so a failed start stays one line.
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        server.run().await.context("the HTTP server failed")
    })
}

fn bot(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(crate::bot::run(config, crate::bot::stop_signal()))
}

fn check(config: &Config, args: crate::cli_check::CheckArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(crate::cli_check::run(
        crate::grading::sandbox_config(config),
        args,
    ))
}

fn migrate(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = database::open(config)?;
    let out = &mut std::io::stdout();
    match action {
        MigrateAction::Up => {
            let applied = db.migrate_up().map_err(|e| anyhow!("{e}"))?;
            if applied.is_empty() {
                writeln!(out, "no pending migrations")?;
            }
            for name in applied {
                writeln!(out, "applied {name}")?;
            }
        }
        MigrateAction::Status => {
            for (name, applied) in db.migration_status().map_err(|e| anyhow!("{e}"))? {
                writeln!(
                    out,
                    "{} {name}",
                    if applied { "applied" } else { "pending" }
                )?;
            }
        }
        MigrateAction::Down { steps } => {
            for name in db.migrate_down(steps).map_err(|e| anyhow!("{e}"))? {
                writeln!(out, "reverted {name}")?;
            }
        }
    }
    Ok(())
}

fn import(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    use domain::ports::ContentRepo;
    // Read and validate the whole file before touching the database.
    let course = persistence::read_course(path).map_err(|e| anyhow!("{e}"))?;
    let db = database::open_for_serving(config)?;
    let summary = db
        .import_course(&course, domain::now())
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    println!(
        "imported {}: topics {} created {} updated, lessons {} created {} updated, tasks {} created {} updated",
        path.display(),
        summary.topics_created,
        summary.topics_updated,
        summary.lessons_created,
        summary.lessons_updated,
        summary.tasks_created,
        summary.tasks_updated
    );
    Ok(())
}

fn export(config: &Config, path: Option<PathBuf>) -> anyhow::Result<()> {
    use domain::ports::ContentRepo;
    let db = database::open(config)?;
    let course = db.export_course().map_err(|e| anyhow!("{e}"))?;
    match path.filter(|p| p.as_os_str() != "-") {
        // Written whole or not at all (persistence renames a temporary file over it).
        Some(p) => persistence::write_course(&p, &course).map_err(|e| anyhow!("{e}"))?,
        None => {
            let text = persistence::course_to_toml(&course).map_err(|e| anyhow!("{e}"))?;
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<Password> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").context("cannot read the password")?;
        let again = rpassword::prompt_password("again: ").context("cannot read the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    } else {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the password from standard input")?;
        s.lines().next().unwrap_or("").to_string()
    };
    Password::parse(raw).map_err(|e| anyhow!("password: {}", e.message))
}

fn create_user(config: &Config, name: &str, role: Role) -> anyhow::Result<()> {
    use domain::ports::UserRepo;
    let username = parse_username(name)?;
    let password = read_password()?;
    let hash =
        password::hash(password.expose()).map_err(|e| anyhow!("cannot hash the password: {e}"))?;
    let db = database::open_for_serving(config)?;
    let user = db
        .insert_user(&NewUser {
            id: Uuid::new_v4(),
            username,
            role,
            password_hash: Some(hash),
            external_id_hash: None,
            telegram_user_id: None,
            created_at: domain::now(),
        })
        .map_err(|e| anyhow!("user {name}: {e}"))?;
    println!(
        "created {} ({}) with id {}",
        user.username, user.role, user.id
    );
    Ok(())
}

fn set_role(config: &Config, name: &str, role: Role) -> anyhow::Result<()> {
    use domain::ports::UserRepo;
    let username = parse_username(name)?;
    let db = database::open_for_serving(config)?;
    let user = db
        .user_by_username(&username)
        .map_err(|e| anyhow!("{e}"))?
        .ok_or_else(|| anyhow!("no user named {name}"))?;
    let user = db
        .set_role(user.id, role, domain::now())
        .map_err(|e| anyhow!("{e}"))?;
    println!("{} is now {}", user.username, user.role);
    Ok(())
}
