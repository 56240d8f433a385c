//! The `kith` command: run the host, and manage a running host from a shell.
//! The commands are in [`kith::cli`].

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = kith::cli::Cli::parse();
    cli.init_logging();
    cli.command.execute().await
}
