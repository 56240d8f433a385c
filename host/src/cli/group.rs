//! `kith group`: manage groups on a running host.

use clap::Subcommand;
use reqwest::Method;

use super::remote::{Client, Remote};

/// Creates and lists groups through the API.
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
}

impl GroupCommand {
    /// Sends the request and prints the host's answer.
    ///
    /// # Errors
    /// A host that cannot be reached, or a 4xx/5xx answer.
    pub async fn execute(self) -> anyhow::Result<()> {
        let client = Client::new(&self.remote)?;
        let request = match self.command {
            GroupSubcommand::Create {
                id,
                name,
                timezone,
                capacity,
                parent,
            } => {
                let body = serde_json::json!({"id": id, "name": name, "timezone": timezone, "capacity": capacity, "parent": parent});
                client.request(Method::POST, "/v1/groups").json(&body)
            }
            GroupSubcommand::List => client.request(Method::GET, "/v1/groups"),
        };
        client.send(request).await
    }
}
