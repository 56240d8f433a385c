//! `kith message`: a group's messages on a running host.

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use super::remote::{Client, Remote};
use super::table::{cell, clip, items, time, Table};

/// Lists and posts messages through the API.
#[derive(clap::Args)]
pub struct MessageCommand {
    #[command(subcommand)]
    command: MessageSubcommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum MessageSubcommand {
    /// A group's recent messages, newest first.
    List {
        group: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Post a message as a member (the group's plugins see it).
    Post {
        group: String,
        #[arg(long)]
        sender: String,
        text: String,
    },
}

impl MessageCommand {
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
    /// As [`MessageCommand::execute`].
    pub async fn run(self) -> anyhow::Result<String> {
        let client = Client::new(&self.remote)?;
        match self.command {
            MessageSubcommand::List { group, limit } => {
                let path = format!("/v1/groups/{group}/messages?limit={limit}");
                client
                    .show(client.request(Method::GET, &path), render_messages)
                    .await
            }
            MessageSubcommand::Post {
                group,
                sender,
                text,
            } => {
                let body = serde_json::json!({"sender": sender, "text": text});
                let path = format!("/v1/groups/{group}/messages");
                let request = client.request(Method::POST, &path).json(&body);
                client.show(request, render_posted).await
            }
        }
    }
}

/// `kith message list`.
fn render_messages(v: &Value) -> String {
    let mut table = Table::new(&["SENT", "ID", "SENDER", "TEXT"]);
    for m in items(v, "messages") {
        let mut text = clip(m["text"].as_str().unwrap_or(""), 80).replace('\n', " ");
        if m["deleted"] == true {
            text = format!("(deleted) {text}");
        }
        table.row(vec![
            time(&m["sent_at"]),
            cell(&m["id"]),
            cell(&m["sender"]),
            text,
        ]);
    }
    table.render()
}

/// `kith message post`: the message's id and what each plugin did.
fn render_posted(v: &Value) -> String {
    let mut out = format!("posted {}\n", cell(&v["message_id"]));
    for i in items(v, "invocations") {
        let result = match i["error"].as_str() {
            Some(error) => format!("failed: {error}"),
            None => "ok".into(),
        };
        out.push_str(&format!(
            "  {} {}: {result}\n",
            cell(&i["plugin"]),
            cell(&i["handler"])
        ));
    }
    out
}
