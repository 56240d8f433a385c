//! `kith replay`: a candidate plugin file against a group's recorded
//! history on a running host; exits 1 when it does anything differently,
//! so it can gate a release in CI.

use anyhow::Context;
use reqwest::Method;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

use super::remote::{Client, Remote};
use super::table::{cell, items, time};

/// Replays a group's history with a candidate file (`POST /v1/groups/{group}/replay`).
#[derive(clap::Args)]
pub struct ReplayCommand {
    /// The group whose history is replayed.
    group: String,
    /// The candidate plugin file: a version of a plugin enabled on the group.
    file: PathBuf,
    /// Compare only events processed at or after this time (Unix epoch ms).
    #[arg(long)]
    since: Option<i64>,
    /// Replay nothing processed after this time (Unix epoch ms).
    #[arg(long)]
    until: Option<i64>,
    /// The candidate's config as JSON (default: the enabled version's).
    #[arg(long)]
    config: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

impl ReplayCommand {
    /// Prints the report; exit code 1 when the candidate differs.
    ///
    /// # Errors
    /// A file that cannot be read, a host that cannot be reached, a 4xx/5xx.
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let (text, differing) = self.run().await?;
        print!("{text}");
        Ok(if differing {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }

    /// Calls the API; returns what to print and whether anything differed.
    ///
    /// # Errors
    /// As [`ReplayCommand::execute`].
    pub async fn run(self) -> anyhow::Result<(String, bool)> {
        let client = Client::new(&self.remote)?;
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("reading {}", self.file.display()))?;
        let mut query: Vec<(&str, String)> = vec![];
        if let Some(since) = self.since {
            query.push(("since", since.to_string()));
        }
        if let Some(until) = self.until {
            query.push(("until", until.to_string()));
        }
        if let Some(config) = self.config {
            query.push(("config", config));
        }
        let request = client
            .request(Method::POST, &format!("/v1/groups/{}/replay", self.group))
            .query(&query)
            .header("content-type", "application/wasm")
            .body(bytes);
        let report = client.call(request).await?;
        let differing = report["differing"].as_u64().unwrap_or(0) > 0;
        let text = match self.remote.json {
            true => serde_json::to_string_pretty(&report).expect("json") + "\n",
            false => render(&report),
        };
        Ok((text, differing))
    }
}

/// The summary, the totals by effect kind, then each differing event.
fn render(r: &Value) -> String {
    let mut out = format!(
        "{} {} ({:.12}) on {}: {} events replayed, {} compared, {} differ\n",
        cell(&r["plugin"]),
        cell(&r["candidate_version"]),
        cell(&r["candidate_sha256"]),
        cell(&r["group"]),
        cell(&r["replayed"]),
        cell(&r["compared"]),
        cell(&r["differing"]),
    );
    if let Some(totals) = r["totals"].as_object() {
        out.push_str("effects (enabled version / candidate):");
        for (kind, counts) in totals {
            out.push_str(&format!(" {kind} {}/{}", counts[0], counts[1]));
        }
        out.push('\n');
    }
    for d in items(r, "diffs") {
        out.push_str(&format!(
            "\n{} {} at {}\n",
            cell(&d["kind"]),
            cell(&d["event_id"]),
            time(&d["at"])
        ));
        for (side, effects, error) in [
            ("enabled  ", &d["recorded"], &d["recorded_error"]),
            ("candidate", &d["candidate"], &d["candidate_error"]),
        ] {
            let list: Vec<String> = effects
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(Value::to_string)
                .collect();
            out.push_str(&format!("  {side}: {}\n", list.join(" ")));
            if let Some(error) = error.as_str() {
                out.push_str(&format!("  {side} failed: {error}\n"));
            }
        }
    }
    out
}
