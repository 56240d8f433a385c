//! The `kith` command line: one file per command, each a clap struct with an
//! `execute` (the layout of wasmtime's `src/commands/`). The binary only
//! parses, starts logging and dispatches:
//!
//! ```no_run
//! use clap::Parser;
//!
//! # async fn run() -> anyhow::Result<std::process::ExitCode> {
//! let cli = kith::cli::Cli::parse();
//! cli.init_logging();
//! cli.command.execute().await
//! # }
//! ```

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod backup;
pub mod group;
pub mod load;
pub mod member;
pub mod message;
pub mod openapi;
pub mod plugin;
pub mod remote;
pub mod replay;
pub mod restore;
pub mod serve;
pub mod storage;
pub mod table;
pub mod test;

/// The `kith` command line.
#[derive(Parser)]
#[command(
    name = "kith",
    version,
    about = "A WebAssembly plugin host for online community operations"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// How log lines are written (to stdout): text for people, json (one
    /// object a line) for log collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The log lines' format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (timestamp, level, target, fields).
    Json,
}

/// The commands, each in its own module.
#[derive(Subcommand)]
pub enum Command {
    /// Run the host.
    Serve(serve::ServeCommand),
    /// Check a plugin file without a server: its world, metadata, handlers on
    /// generated events, determinism, budget, isolation and its scenarios.
    /// Exits 0 only if every check passes.
    Test(test::TestCommand),
    /// Manage plugins on a running host.
    Plugin(plugin::PluginCommand),
    /// Manage groups on a running host, and read their audit log.
    Group(group::GroupCommand),
    /// Manage a group's members on a running host.
    Member(member::MemberCommand),
    /// Read and post a group's messages on a running host.
    Message(message::MessageCommand),
    /// Read a plugin's storage on a group of a running host.
    Storage(storage::StorageCommand),
    /// Print the OpenAPI document of the HTTP API (what GET /openapi.json
    /// serves), e.g. to regenerate host/src/http/openapi.json.
    Openapi(openapi::OpenapiCommand),
    /// Replay a group's recorded history with a candidate plugin file on a
    /// running host and report where it differs from the enabled version;
    /// exits 1 when it does (a release gate).
    Replay(replay::ReplayCommand),
    /// Copy the SQLite database while the server runs (a consistent online
    /// backup); for Postgres, use pg_dump (docs/operating.md).
    Backup(backup::BackupCommand),
    /// Put a backup in place as a data dir's database (the server stopped).
    Restore(restore::RestoreCommand),
    /// Generate load on a running host: groups, members, plugins, then
    /// message events; prints events/s and latency percentiles.
    Load(load::LoadCommand),
}

impl Cli {
    /// Parses a command line (the program's name first), as `kith` does.
    ///
    /// # Errors
    /// clap's message for arguments that do not parse.
    pub fn from_args<I, T>(args: I) -> Result<Cli, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args).map_err(|e| e.to_string())
    }

    /// Logs to stdout, filtered by `RUST_LOG` or else by the command's default.
    ///
    /// # Panics
    /// If a global tracing subscriber is already set.
    pub fn init_logging(&self) {
        // `kith test` reports failures itself; the log would repeat them.
        let default_filter = if matches!(self.command, Command::Test(_)) {
            "error"
        } else {
            "kith=info,warn"
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| default_filter.into());
        let logs = tracing_subscriber::fmt().with_env_filter(filter);
        match self.log_format {
            LogFormat::Text => logs.init(),
            LogFormat::Json => logs.json().init(),
        }
    }
}

impl Command {
    /// Runs the command. The exit code is a failure only for `kith test` on a
    /// plugin that fails a check; every other failure is an error.
    ///
    /// # Errors
    /// Whatever the command reports: a file that cannot be read, a server
    /// that cannot be reached or answers 4xx/5xx, a store that cannot open.
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Serve(command) => command.execute().await?,
            Command::Test(command) => return command.execute().await,
            Command::Plugin(command) => command.execute().await?,
            Command::Group(command) => command.execute().await?,
            Command::Member(command) => command.execute().await?,
            Command::Message(command) => command.execute().await?,
            Command::Storage(command) => command.execute().await?,
            Command::Load(command) => command.execute().await?,
            Command::Replay(command) => return command.execute().await,
            Command::Backup(command) => command.execute().await?,
            Command::Restore(command) => command.execute().await?,
            Command::Openapi(command) => return Ok(command.execute()),
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl Command {
    /// For the commands that call a running host: what they would print.
    /// `None` for the others, which do not.
    ///
    /// # Errors
    /// A host that cannot be reached, or a 4xx/5xx answer.
    pub async fn run_remote(self) -> anyhow::Result<Option<String>> {
        Ok(Some(match self {
            Command::Plugin(command) => command.run().await?,
            Command::Group(command) => command.run().await?,
            Command::Member(command) => command.run().await?,
            Command::Message(command) => command.run().await?,
            Command::Storage(command) => command.run().await?,
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap's own checks of the definitions (duplicate flags, bad defaults).
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn remote_flags_go_before_or_after_the_subcommand() {
        for args in [
            ["kith", "plugin", "--server", "http://h:1", "list"],
            ["kith", "plugin", "list", "--server", "http://h:1"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(matches!(cli.command, Command::Plugin(_)));
        }
        assert!(Cli::try_parse_from(["kith", "plugin", "new", "x", "--kind", "nope"]).is_err());
    }
}
