//! The `campus` binary. Loads the configuration once, sets up logging, runs one command.
//! Any failure is one line on stderr (`error: ...`) and a non-zero exit code.

use api::{
    cli::{Cli, Command},
    config::Config,
    telemetry,
};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = format!("{e:#}").replace(['\n', '\r'], " ");
            eprintln!("error: {line}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load()?;
    let command = cli.command.unwrap_or(Command::Serve);
    let serving = matches!(command, Command::Serve | Command::Bot);
    telemetry::init(
        &config,
        if serving { "info" } else { "warn" },
        std::io::stderr,
    )
    .map_err(anyhow::Error::msg)?;
    api::cli::run(command, config)
}
