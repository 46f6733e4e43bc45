//! `campus check` without the api crate: compiles `crates/api/src/cli_check.rs` as is, so the
//! teacher's check can be run and tested from the sandbox crate alone.
//! Usage: check TASK_FILE SOLUTION.py | check --humaneval HumanEval.jsonl.gz
#[path = "../../api/src/cli_check.rs"]
mod cli_check;

use clap::Parser;

#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    check: cli_check::CheckArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli_check::run(sandbox::SandboxConfig::default(), cli.check).await
}
