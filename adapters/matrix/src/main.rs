//! `kith-matrix`: kith's adapter for Matrix homeservers.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kith_matrix::run::{run, Adapter};
use kith_matrix::{config, Config};

#[derive(Parser)]
#[command(name = "kith-matrix", about = "kith's Matrix adapter", version)]
struct Cli {
    /// The JSON configuration file (fields overridable by KITH_MATRIX_*,
    /// KITH_URL and KITH_TOKEN; see docs/adapters.md).
    #[arg(long, short, env = "KITH_MATRIX_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sync the mapped rooms into kith and deliver kith's outbox, until stopped.
    Run,
    /// Map a room (id or alias) to a kith group: the bot joins it, the group
    /// is created if missing, room admins become group admins, and the
    /// mapping is added to the config file. Restart `run` to pick it up.
    Map { room: String, group: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kith_matrix=info".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Run => run(Config::load(cli.config.as_deref())?).await,
        Command::Map { room, group } => {
            let path = cli
                .config
                .context("map writes the mapping into --config FILE")?;
            map(&path, &room, &group).await
        }
    }
}

async fn map(path: &std::path::Path, room: &str, group: &str) -> anyhow::Result<()> {
    let a = Adapter::connect(Config::load(Some(path))?).await?;
    // The token first: what happens once the bot is in the room is news.
    a.ensure_since().await?;
    let room_id = a.matrix.join(room).await.context("joining the room")?;
    let name = a
        .matrix
        .state(&room_id, "m.room.name", "")
        .await
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| group.to_string());
    if let Err(e) = a.kith.ensure_group(group, &name).await {
        eprintln!("warning: could not create group {group} in kith (an admin token can): {e}");
    }
    if let Err(e) = map_roles(&a, &room_id, group).await {
        eprintln!("warning: room admins were not made group admins: {e}");
    }
    config::add_mapping(path, &room_id, group)?;
    println!("mapped {room_id} to group {group}");
    Ok(())
}

/// Room power levels as group roles ([`kith_matrix::roles`]: 100 → owner,
/// 50 → admin; ad-filter and other plugins exempt or empower these roles).
async fn map_roles(a: &Adapter, room: &str, group: &str) -> kith_matrix::failure::Result<()> {
    let pl = a.matrix.state(room, "m.room.power_levels", "").await?;
    let default = pl["users_default"].as_i64().unwrap_or(0);
    for member in a.matrix.joined_members(room).await? {
        let level = pl["users"][&member].as_i64().unwrap_or(default);
        let Some(role) = kith_matrix::roles::role_of_level(level) else {
            continue;
        };
        if member != a.matrix.user_id {
            a.kith.set_role(group, &member, role).await?;
        }
    }
    Ok(())
}
