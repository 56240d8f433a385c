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
        /// rust, python, js, c or zig.
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
    /// List a plugin's installed versions and where each runs.
    Versions { plugin: String },
    /// Upgrade a plugin on a group, or on every group with --all, to another
    /// version (default: the latest); `on-enabled` runs again, storage and
    /// timers stay.
    Upgrade {
        plugin: String,
        /// The group to upgrade.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        group: Option<String>,
        /// Every group that runs another version (all or nothing).
        #[arg(long)]
        all: bool,
        /// A content hash (8+ characters) or a version string; default: the latest.
        #[arg(long)]
        to: Option<String>,
        /// The whole config for the new version, as JSON (with --group).
        #[arg(long, conflicts_with = "all")]
        config: Option<String>,
        /// New configs by group, as a JSON object (with --all).
        #[arg(long, requires = "all")]
        configs: Option<String>,
        /// Capabilities to grant beyond those kept, comma-separated.
        #[arg(long, value_delimiter = ',')]
        grant: Vec<String>,
        /// Check and report; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run a candidate version in shadow beside the live one on a group
    /// (its effects recorded, never applied); --status shows how it
    /// compares so far, --stop ends it.
    Shadow {
        group: String,
        plugin: String,
        /// A content hash (8+ characters) or a version string; default: the latest.
        #[arg(long, conflicts_with_all = ["status", "stop"])]
        to: Option<String>,
        /// Its config as JSON; default: the live version's.
        #[arg(long, conflicts_with_all = ["status", "stop"])]
        config: Option<String>,
        /// Show how it compares so far.
        #[arg(long, conflicts_with = "stop")]
        status: bool,
        /// Stop it.
        #[arg(long)]
        stop: bool,
    },
    /// Promote the version in shadow: an upgrade to it, with its config.
    Promote { group: String, plugin: String },
    /// Put a plugin on a group back on what it ran before its last upgrade.
    Rollback { group: String, plugin: String },
    /// Uninstall one version of a plugin (--version), or all of them.
    Uninstall {
        plugin: String,
        /// A content hash (8+ characters) or a version string.
        #[arg(long)]
        version: Option<String>,
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
            PluginSubcommand::Versions { plugin } => {
                let path = format!("/v1/plugins/{plugin}/versions");
                client
                    .show(client.request(Method::GET, &path), render_versions)
                    .await
            }
            PluginSubcommand::Upgrade {
                plugin,
                group,
                all: _,
                to,
                config,
                configs,
                grant,
                dry_run,
            } => {
                let mut body = serde_json::json!({"to": to, "grant": grant, "dry_run": dry_run});
                if let Some(config) = config {
                    body["config"] =
                        serde_json::from_str(&config).context("--config is not JSON")?;
                }
                if let Some(configs) = configs {
                    body["configs"] =
                        serde_json::from_str(&configs).context("--configs is not JSON")?;
                }
                let path = match &group {
                    Some(g) => format!("/v1/groups/{g}/plugins/{plugin}/upgrade"),
                    None => format!("/v1/plugins/{plugin}/upgrade"),
                };
                let request = client.request(Method::POST, &path).json(&body);
                match group {
                    Some(_) => client.show(request, render_upgraded).await,
                    None => client.show(request, render_upgrade_report).await,
                }
            }
            PluginSubcommand::Shadow {
                group,
                plugin,
                to,
                config,
                status,
                stop,
            } => {
                let path = format!("/v1/groups/{group}/plugins/{plugin}/shadow");
                if stop {
                    let request = client.request(Method::DELETE, &path);
                    let done = format!("stopped the shadow of {plugin} on {group}\n");
                    return client.show(request, |_| done).await;
                }
                let request = match status {
                    true => client.request(Method::GET, &path),
                    false => {
                        let mut body = serde_json::json!({ "to": to });
                        if let Some(config) = config {
                            body["config"] =
                                serde_json::from_str(&config).context("--config is not JSON")?;
                        }
                        client.request(Method::PUT, &path).json(&body)
                    }
                };
                let title = format!("{plugin} on {group}");
                client.show(request, |v| render_shadow(&title, v)).await
            }
            PluginSubcommand::Promote { group, plugin } => {
                let path = format!("/v1/groups/{group}/plugins/{plugin}/shadow/promote");
                client
                    .show(client.request(Method::POST, &path), render_upgraded)
                    .await
            }
            PluginSubcommand::Rollback { group, plugin } => {
                let path = format!("/v1/groups/{group}/plugins/{plugin}/rollback");
                client
                    .show(client.request(Method::POST, &path), render_upgraded)
                    .await
            }
            PluginSubcommand::Uninstall { plugin, version } => {
                let path = match &version {
                    Some(v) => format!("/v1/plugins/{plugin}/versions/{v}"),
                    None => format!("/v1/plugins/{plugin}"),
                };
                let what = version.map_or("every version".into(), |v| format!("version {v}"));
                let request = client.request(Method::DELETE, &path);
                client
                    .show(request, |_| format!("uninstalled {what} of {plugin}\n"))
                    .await
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

/// `kith plugin versions`: newest first, where each runs.
fn render_versions(v: &Value) -> String {
    let mut table = Table::new(&[
        "VERSION",
        "SHA256",
        "INSTALLED",
        "LATEST",
        "RUNS ON",
        "ROLLBACK ON",
    ]);
    for version in items(v, "versions") {
        let groups = |key: &str| {
            let list: Vec<String> = items(version, key).iter().map(cell).collect();
            list.join(",")
        };
        table.row(vec![
            cell(&version["metadata"]["version"]),
            short(&version["sha256"]),
            time(&version["installed_at"]),
            if version["latest"] == true { "yes" } else { "" }.into(),
            groups("enabled_on"),
            groups("rollback_target_on"),
        ]);
    }
    table.render()
}

/// A content hash as people compare them: its first 12 characters.
fn short(sha: &Value) -> String {
    cell(sha).chars().take(12).collect()
}

/// `kith plugin upgrade --group` and `rollback`: from, to, capabilities.
fn render_upgraded(v: &Value) -> String {
    let (from, to, caps) = (&v["from"], &v["to"], &v["capabilities"]);
    let mut out = format!(
        "{} on {}: {} ({}) -> {} ({}){}\n",
        cell(&v["enablement"]["plugin"]),
        cell(&v["group"]),
        cell(&from["version"]),
        short(&from["sha256"]),
        cell(&to["version"]),
        short(&to["sha256"]),
        if v["on_enabled"].is_null() {
            " [dry run]"
        } else {
            ""
        }
    );
    for (key, label) in [
        ("added", "capabilities added"),
        ("removed", "capabilities removed"),
        ("not_granted", "not granted (--grant to grant)"),
    ] {
        let list: Vec<String> = items(caps, key).iter().map(cell).collect();
        if !list.is_empty() {
            out.push_str(&format!("  {label}: {}\n", list.join(", ")));
        }
    }
    for i in items(&v["on_enabled"], "invocations") {
        if let Some(error) = i["error"].as_str() {
            out.push_str(&format!("  on-enabled failed: {error}\n"));
        }
    }
    out
}

/// `kith plugin shadow`: the version in shadow, its runs, the latest
/// differing ones.
fn render_shadow(title: &str, v: &Value) -> String {
    let mut out = format!(
        "{title}: {} ({}) in shadow since {}: {} runs, {} differ\n",
        cell(&v["version"]),
        short(&v["shadow"]["sha256"]),
        time(&v["shadow"]["since"]),
        cell(&v["runs"]),
        cell(&v["differing"]),
    );
    for run in items(v, "diffs") {
        out.push_str(&format!(
            "\n{} {}\n",
            cell(&run["handler"]),
            cell(&run["event_id"])
        ));
        for side in ["live", "shadow"] {
            let effects: Vec<String> = items(run, side).iter().map(Value::to_string).collect();
            out.push_str(&format!("  {side:6}: {}\n", effects.join(" ")));
        }
    }
    out
}

/// `kith plugin upgrade --all`: one block per group.
fn render_upgrade_report(v: &Value) -> String {
    let upgraded = items(v, "upgraded");
    if upgraded.is_empty() {
        return "every group already runs that version\n".into();
    }
    upgraded.iter().map(render_upgraded).collect()
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
