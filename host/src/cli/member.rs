//! `kith member`: a group's members on a running host.

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use super::remote::{Client, Remote};
use super::table::{cell, items, time, Table};

/// Lists, adds, removes and tags members through the API.
#[derive(clap::Args)]
pub struct MemberCommand {
    #[command(subcommand)]
    command: MemberSubcommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum MemberSubcommand {
    /// List a group's members.
    List {
        group: String,
        /// Only this status: active, pending, left, removed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        tag: Option<String>,
    },
    /// Add a member directly (no gate runs).
    Add {
        group: String,
        member: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// Remove a member from the group (the adapter removes them on the platform).
    Remove {
        group: String,
        member: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a member's removal: they become `left` and may ask to join again.
    Lift { group: String, member: String },
    /// Set a member's role.
    Role {
        group: String,
        member: String,
        role: String,
    },
    /// Tag a member.
    Tag {
        group: String,
        member: String,
        tag: String,
    },
    /// Remove a tag from a member.
    Untag {
        group: String,
        member: String,
        tag: String,
    },
}

impl MemberCommand {
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
    /// As [`MemberCommand::execute`].
    pub async fn run(self) -> anyhow::Result<String> {
        let client = Client::new(&self.remote)?;
        match self.command {
            MemberSubcommand::List { group, status, tag } => {
                let mut request =
                    client.request(Method::GET, &format!("/v1/groups/{group}/members"));
                if let Some(status) = status {
                    request = request.query(&[("status", status)]);
                }
                if let Some(tag) = tag {
                    request = request.query(&[("tag", tag)]);
                }
                client.show(request, render_members).await
            }
            MemberSubcommand::Add {
                group,
                member,
                name,
                role,
            } => {
                let body =
                    serde_json::json!({"member": member, "display_name": name, "role": role});
                let path = format!("/v1/groups/{group}/members");
                let request = client.request(Method::POST, &path).json(&body);
                client
                    .show(request, |v| {
                        let status = cell(&v["join"]["status"]);
                        format!("{member} in {group}: {status}\n")
                    })
                    .await
            }
            MemberSubcommand::Remove {
                group,
                member,
                reason,
            } => {
                let path = format!("/v1/groups/{group}/members/{member}/remove");
                let body = serde_json::json!({ "reason": reason });
                let request = client.request(Method::POST, &path).json(&body);
                client
                    .show(request, |_| format!("removed {member} from {group}\n"))
                    .await
            }
            MemberSubcommand::Lift { group, member } => {
                let path = format!("/v1/groups/{group}/members/{member}/lift-removal");
                client
                    .show(client.request(Method::POST, &path), render_member)
                    .await
            }
            MemberSubcommand::Role {
                group,
                member,
                role,
            } => {
                let path = format!("/v1/groups/{group}/members/{member}/role");
                let request = client
                    .request(Method::PUT, &path)
                    .json(&serde_json::json!({ "role": role }));
                client.show(request, render_member).await
            }
            MemberSubcommand::Tag { group, member, tag } => {
                let path = format!("/v1/groups/{group}/members/{member}/tags/{tag}");
                client
                    .show(client.request(Method::PUT, &path), render_member)
                    .await
            }
            MemberSubcommand::Untag { group, member, tag } => {
                let path = format!("/v1/groups/{group}/members/{member}/tags/{tag}");
                client
                    .show(client.request(Method::DELETE, &path), render_member)
                    .await
            }
        }
    }
}

const MEMBER_COLUMNS: &[&str] = &[
    "ID",
    "NAME",
    "ROLE",
    "STATUS",
    "POINTS",
    "TAGS",
    "LAST ACTIVE",
];

fn member_row(m: &Value) -> Vec<String> {
    let tags: Vec<String> = items(m, "tags").iter().map(cell).collect();
    vec![
        cell(&m["id"]),
        cell(&m["display_name"]),
        cell(&m["role"]),
        cell(&m["status"]),
        cell(&m["points"]),
        tags.join(","),
        time(&m["last_active_at"]),
    ]
}

/// `kith member list`.
fn render_members(v: &Value) -> String {
    let mut table = Table::new(MEMBER_COLUMNS);
    for m in items(v, "members") {
        table.row(member_row(m));
    }
    table.render()
}

/// One member, as `role`, `tag` and `untag` leave it.
fn render_member(v: &Value) -> String {
    let mut table = Table::new(MEMBER_COLUMNS);
    table.row(member_row(v));
    table.render()
}
