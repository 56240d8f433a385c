//! `kith plugin`: create a plugin skeleton, and manage plugins on a running
//! host.

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use std::path::{Path, PathBuf};

use super::remote::{Client, Remote};
use crate::domain::PluginKind;
use crate::scaffold::{self, Lang};

/// `new` works offline; the other subcommands call the API.
#[derive(clap::Args)]
pub struct PluginCommand {
    #[command(subcommand)]
    command: PluginSubcommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum PluginSubcommand {
    /// Create a buildable plugin skeleton with a scenario (no server needed).
    New {
        name: String,
        /// entry-gate, activity-game or conversion-flow.
        #[arg(long)]
        kind: PluginKind,
        #[arg(long, default_value = "rust")]
        lang: Lang,
        /// Where to create the plugin's folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Upload a plugin file (a component or a wit-bindgen core module).
    Install { file: PathBuf },
    /// List installed plugins.
    List,
    /// Enable (or reconfigure) a plugin on a group.
    Enable {
        group: String,
        plugin: String,
        /// The plugin's config, as JSON.
        #[arg(long, default_value = "{}")]
        config: String,
        #[arg(long)]
        position: Option<i64>,
    },
    /// Disable a plugin on a group.
    Disable { group: String, plugin: String },
    /// Show a group's enabled plugins.
    Enabled { group: String },
}

impl PluginCommand {
    /// Writes the skeleton, or sends the request and prints the host's answer.
    ///
    /// # Errors
    /// A skeleton that cannot be written, a file that cannot be read, bad
    /// `--config` JSON, a host that cannot be reached, or a 4xx/5xx answer.
    pub async fn execute(self) -> anyhow::Result<()> {
        let client = Client::new(&self.remote)?;
        let request = match self.command {
            PluginSubcommand::New {
                name,
                kind,
                lang,
                dir,
            } => return new_plugin(&dir, &name, kind, lang),
            PluginSubcommand::Install { file } => {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                client
                    .request(Method::POST, "/v1/plugins")
                    .header("content-type", "application/wasm")
                    .body(bytes)
            }
            PluginSubcommand::List => client.request(Method::GET, "/v1/plugins"),
            PluginSubcommand::Enable {
                group,
                plugin,
                config,
                position,
            } => {
                let config: serde_json::Value =
                    serde_json::from_str(&config).context("--config is not JSON")?;
                let body = serde_json::json!({"config": config, "position": position});
                client
                    .request(Method::PUT, &format!("/v1/groups/{group}/plugins/{plugin}"))
                    .json(&body)
            }
            PluginSubcommand::Disable { group, plugin } => client.request(
                Method::DELETE,
                &format!("/v1/groups/{group}/plugins/{plugin}"),
            ),
            PluginSubcommand::Enabled { group } => {
                client.request(Method::GET, &format!("/v1/groups/{group}/plugins"))
            }
        };
        client.send(request).await
    }
}

/// `kith plugin new`: writes the skeleton and says how to build and test it.
fn new_plugin(dir: &Path, name: &str, kind: PluginKind, lang: Lang) -> anyhow::Result<()> {
    let root = scaffold::new_plugin(dir, name, kind, lang)?;
    println!(
        "created {}: build it with {}/build.sh, then run",
        root.display(),
        root.display()
    );
    println!(
        "  kith test {0}/{1}.wasm --scenarios {0}/scenarios",
        root.display(),
        name
    );
    Ok(())
}
