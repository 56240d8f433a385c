//! `kith group`: manage groups on a running host, and read their audit log.

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use super::remote::{Client, Remote};
use super::table::{cell, items, time, Table};

/// Creates, lists, archives and deletes groups through the API.
#[derive(clap::Args)]
pub struct GroupCommand {
    #[command(subcommand)]
    command: GroupSubcommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum GroupSubcommand {
    /// Create a group.
    Create {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long)]
        capacity: Option<u32>,
        #[arg(long)]
        parent: Option<String>,
    },
    /// List groups.
    List,
    /// Archive a group: read-only, plugins stopped, data kept.
    Archive { group: String },
    /// Bring an archived group back.
    Unarchive { group: String },
    /// Delete a group with all its data (refused while it has child groups).
    Delete { group: String },
    /// Who changed what on a group, newest first.
    Audit {
        group: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

impl GroupCommand {
    /// Sends the request and prints the host's answer.
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
    /// As [`GroupCommand::execute`].
    pub async fn run(self) -> anyhow::Result<String> {
        let client = Client::new(&self.remote)?;
        match self.command {
            GroupSubcommand::Create {
                id,
                name,
                timezone,
                capacity,
                parent,
            } => {
                let body = serde_json::json!({"id": id, "name": name, "timezone": timezone, "capacity": capacity, "parent": parent});
                let request = client.request(Method::POST, "/v1/groups").json(&body);
                client
                    .show(request, |v| format!("created group {}\n", cell(&v["id"])))
                    .await
            }
            GroupSubcommand::List => {
                let request = client.request(Method::GET, "/v1/groups");
                client.show(request, render_groups).await
            }
            GroupSubcommand::Archive { group } => {
                let request = client.request(Method::POST, &format!("/v1/groups/{group}/archive"));
                let done = format!(
                    "archived {group} (read-only; `kith group unarchive {group}` brings it back)\n"
                );
                client.show(request, |_| done).await
            }
            GroupSubcommand::Unarchive { group } => {
                let request =
                    client.request(Method::POST, &format!("/v1/groups/{group}/unarchive"));
                client
                    .show(request, |_| format!("{group} is live again\n"))
                    .await
            }
            GroupSubcommand::Delete { group } => {
                let request = client.request(Method::DELETE, &format!("/v1/groups/{group}"));
                client
                    .show(request, |_| format!("deleted {group} and its data\n"))
                    .await
            }
            GroupSubcommand::Audit { group, limit } => {
                let path = format!("/v1/groups/{group}/audit?limit={limit}");
                client
                    .show(client.request(Method::GET, &path), render_audit)
                    .await
            }
        }
    }
}

/// `kith group list`.
fn render_groups(v: &Value) -> String {
    let mut table = Table::new(&["ID", "NAME", "PARENT", "TIMEZONE", "ARCHIVED"]);
    for g in items(v, "groups") {
        table.row(vec![
            cell(&g["id"]),
            cell(&g["name"]),
            cell(&g["parent"]),
            cell(&g["timezone"]),
            time(&g["archived_at"]),
        ]);
    }
    table.render()
}

/// `kith group audit`.
fn render_audit(v: &Value) -> String {
    let mut table = Table::new(&["AT", "BY", "ACTION", "SUBJECT", "DETAIL"]);
    for e in items(v, "entries") {
        let by = match e["token_id"].as_str() {
            Some(token) => format!("token {token}"),
            None => cell(&e["actor"]),
        };
        let detail = match &e["detail"] {
            Value::Object(o) if o.is_empty() => String::new(),
            d => d.to_string(),
        };
        table.row(vec![
            time(&e["at"]),
            by,
            cell(&e["action"]),
            cell(&e["subject"]),
            detail,
        ]);
    }
    table.render()
}
