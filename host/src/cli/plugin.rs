//! `kith plugin`: create a plugin skeleton, and manage plugins on a running
//! host.

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use std::path::{Path, PathBuf};

use super::remote::{Client, Remote};
use super::table::{cell, clip, items, time, Table};
use crate::domain::PluginKind;
use crate::scaffold::{self, Lang};
use serde_json::Value;

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
    /// Enable a plugin on a group, or change its settings: only the
    /// settings given change (a config is merged into the current one).
    Enable {
        group: String,
        plugin: String,
        /// Config changes, as JSON, merged into the current config (a null
        /// removes a key); the whole config with --replace-config.
        #[arg(long)]
        config: Option<String>,
        /// Replace the whole config with --config instead of merging.
        #[arg(long, requires = "config")]
        replace_config: bool,
        /// Where it runs (0 first); the others move to make room. Use
        /// `kith plugin order` to reorder.
        #[arg(long)]
        position: Option<i64>,
    },
    /// Disable a plugin on a group (it keeps its place for a re-enable).
    Disable { group: String, plugin: String },
    /// Show a group's plugins in run order, switched-off ones with why.
    Enabled { group: String },
    /// Set the run order: the listed plugins first, the others after.
    Order {
        group: String,
        /// Plugin names, comma-separated: a,b,c.
        #[arg(value_delimiter = ',', required = true)]
        plugins: Vec<String>,
    },
}

impl PluginCommand {
    /// Writes the skeleton, or sends the request and prints the host's answer.
    ///
    /// # Errors
    /// A skeleton that cannot be written, a file that cannot be read, bad
    /// `--config` JSON, a host that cannot be reached, or a 4xx/5xx answer.
    pub async fn execute(self) -> anyhow::Result<()> {
        if let PluginSubcommand::New {
            name,
            kind,
            lang,
            dir,
        } = &self.command
        {
            return new_plugin(dir, name, *kind, *lang);
        }
        print!("{}", self.run().await?);
        Ok(())
    }

    /// Calls the API and returns what to print (`new` prints nothing here).
    ///
    /// # Errors
    /// As [`PluginCommand::execute`].
    pub async fn run(self) -> anyhow::Result<String> {
        let client = Client::new(&self.remote)?;
        match self.command {
            PluginSubcommand::New { .. } => Ok(String::new()),
            PluginSubcommand::Install { file } => {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let request = client
                    .request(Method::POST, "/v1/plugins")
                    .header("content-type", "application/wasm")
                    .body(bytes);
                client
                    .show(request, |v| {
                        let m = &v["metadata"];
                        format!(
                            "installed {} {} ({})\n",
                            cell(&m["name"]),
                            cell(&m["version"]),
                            cell(&m["kind"])
                        )
                    })
                    .await
            }
            PluginSubcommand::List => {
                let request = client.request(Method::GET, "/v1/plugins");
                client.show(request, render_installed).await
            }
            PluginSubcommand::Enable {
                group,
                plugin,
                config,
                replace_config,
                position,
            } => {
                let mut body = serde_json::json!({});
                if let Some(config) = config {
                    body["config"] =
                        serde_json::from_str(&config).context("--config is not JSON")?;
                }
                if replace_config {
                    body["replace_config"] = true.into();
                }
                if let Some(position) = position {
                    body["position"] = position.into();
                }
                let path = format!("/v1/groups/{group}/plugins/{plugin}");
                let request = client.request(Method::PUT, &path).json(&body);
                client.show(request, render_enabled).await
            }
            PluginSubcommand::Disable { group, plugin } => {
                let path = format!("/v1/groups/{group}/plugins/{plugin}");
                let request = client.request(Method::DELETE, &path);
                client
                    .show(request, |_| format!("disabled {plugin} on {group}\n"))
                    .await
            }
            PluginSubcommand::Enabled { group } => {
                let request = client.request(Method::GET, &format!("/v1/groups/{group}/plugins"));
                client.show(request, render_enablements).await
            }
            PluginSubcommand::Order { group, plugins } => {
                let path = format!("/v1/groups/{group}/plugins/order");
                let body = serde_json::json!({ "plugins": plugins });
                let request = client.request(Method::PUT, &path).json(&body);
                client.show(request, render_enablements).await
            }
        }
    }
}

/// `kith plugin list`: one line per installed plugin.
fn render_installed(v: &Value) -> String {
    let mut table = Table::new(&["NAME", "VERSION", "KIND", "DESCRIPTION"]);
    for p in items(v, "plugins") {
        let m = &p["metadata"];
        let description = clip(m["description"].as_str().unwrap_or(""), 60);
        table.row(vec![
            cell(&m["name"]),
            cell(&m["version"]),
            cell(&m["kind"]),
            description,
        ]);
    }
    table.render()
}

/// `kith plugin enabled` and `order`: the run order, and what is off and why.
fn render_enablements(v: &Value) -> String {
    let mut table = Table::new(&["POS", "PLUGIN", "STATE", "FAILURES", "ENABLED"]);
    for e in items(v, "plugins") {
        let state = match e["disabled_reason"].as_str() {
            Some(reason) => format!("OFF: {reason}"),
            None => "on".into(),
        };
        table.row(vec![
            cell(&e["position"]),
            cell(&e["plugin"]),
            state,
            cell(&e["consecutive_failures"]),
            time(&e["enabled_at"]),
        ]);
    }
    table.render() + &warnings(v)
}

/// `kith plugin enable`: the enablement as it now is.
fn render_enabled(v: &Value) -> String {
    let e = &v["enablement"];
    let mut out = format!(
        "{} on {}: position {}, config {}\n",
        cell(&e["plugin"]),
        cell(&e["group"]),
        cell(&e["position"]),
        e["config"]
    );
    for i in items(&v["on_enabled"], "invocations") {
        if let Some(error) = i["error"].as_str() {
            out.push_str(&format!("on-enabled failed: {error}\n"));
        }
    }
    out + &warnings(v)
}

/// The answer's `warnings`, one line each.
fn warnings(v: &Value) -> String {
    items(v, "warnings")
        .iter()
        .map(|w| format!("warning: {}\n", cell(w)))
        .collect()
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
