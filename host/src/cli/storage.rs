//! `kith storage`: read a plugin's storage on a group of a running host.

use reqwest::Method;
use serde_json::Value;

use super::remote::{Client, Remote};
use super::table::{cell, clip, items, Table};

/// Lists a plugin's stored values (`GET /v1/groups/{group}/plugins/{name}/storage`).
#[derive(clap::Args)]
pub struct StorageCommand {
    group: String,
    plugin: String,
    /// Only keys starting with this.
    #[arg(long, default_value = "")]
    prefix: String,
    /// At most this many keys.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[command(flatten)]
    remote: Remote,
}

impl StorageCommand {
    /// Prints the values.
    ///
    /// # Errors
    /// A host that cannot be reached, or a 4xx/5xx answer.
    pub async fn execute(self) -> anyhow::Result<()> {
        print!("{}", self.run().await?);
        Ok(())
    }

    /// Calls the API and returns what to print.
    ///
    /// # Errors
    /// As [`StorageCommand::execute`].
    pub async fn run(self) -> anyhow::Result<String> {
        let client = Client::new(&self.remote)?;
        let path = format!("/v1/groups/{}/plugins/{}/storage", self.group, self.plugin);
        let query = [("prefix", self.prefix), ("limit", self.limit.to_string())];
        let request = client.request(Method::GET, &path).query(&query);
        client.show(request, render).await
    }
}

fn render(v: &Value) -> String {
    let mut table = Table::new(&["KEY", "BYTES", "VALUE"]);
    for e in items(v, "entries") {
        let value = match e["encoding"].as_str() {
            Some("hex") => format!("hex:{}", cell(&e["value"])),
            _ => cell(&e["value"]),
        };
        table.row(vec![cell(&e["key"]), cell(&e["bytes"]), clip(&value, 80)]);
    }
    table.render()
}
