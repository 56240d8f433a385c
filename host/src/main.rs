//! The `kith` command: run the host, and manage a running host from a shell.
//! The commands are in [`kith::cli`].

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = kith::cli::Cli::parse();
    cli.init_logging();
    match cli.command.execute().await {
        Ok(code) => code,
        // The message and its causes, one line: not the Debug form, which
        // prints a stack backtrace whenever RUST_BACKTRACE is set.
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
