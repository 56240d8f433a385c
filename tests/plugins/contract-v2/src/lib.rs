//! A kith:plugin@0.2.0 gate that exercises what 0.2.0 added, for the
//! contract-versions tests:
//! - it handles only join requests and messages (one `handle` export);
//!   a join request answered `done` admits, one from a display name
//!   starting with "bot" is rejected;
//! - `set:K` stores key K; `keys` posts `keys:` and every stored key, read
//!   two at a time with `list-keys-after`;
//! - `history` posts `history:` and the ids of every message, read two at a
//!   time with `recent-before`;
//! - `active` posts `active:` and every member active since 0, read one at
//!   a time with `active-since`;
//! - `refund:<payment id>:<amount>` asks for a refund and posts
//!   `refund:ok`, or `refund:` and the error's code.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use exports::kith::plugin::handler::{Event, Guest as Handler, Reply};
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{Capability, Context, Decision, ErrorCode, PluginKind};
use kith::plugin::{ledger, members, storage};
use kith_plugin_util::all_pages as all;

struct ContractV2;

impl Guest for ContractV2 {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "contract-v2".into(),
            version: "0.1.0".into(),
            kind: PluginKind::EntryGate,
            description: "Exercises kith:plugin@0.2.0: for tests only.".into(),
            config_schema: r#"{"type":"object","properties":{"language":{"type":"string"}},"additionalProperties":false}"#.into(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::PostMessages,
                Capability::Storage,
                Capability::Ledger,
            ],
        }
    }
}

fn post(text: String) -> Result<(), String> {
    let outgoing = Outgoing {
        text,
        mentions: vec![],
        reply_to: None,
    };
    messages::post(&outgoing).map(drop).map_err(|e| e.message)
}

fn on_message(text: &str) -> Result<(), String> {
    if let Some(key) = text.strip_prefix("set:") {
        return storage::set(key, b"1").map_err(|e| e.message);
    }
    if let Some((payment, amount)) = text.strip_prefix("refund:").and_then(|r| r.split_once(':')) {
        let amount = amount.parse().map_err(|_| "amount")?;
        return post(match ledger::request_refund(payment, amount, "test") {
            Ok(()) => "refund:ok".into(),
            Err(e) if e.code == ErrorCode::NotFound => "refund:not-found".into(),
            Err(e) if e.code == ErrorCode::Invalid => "refund:invalid".into(),
            Err(e) => format!("refund:{}", e.message),
        });
    }
    let listed = match text {
        "keys" => all(2, |last: Option<&String>| {
            storage::list_keys_after("", last.map(String::as_str), 2)
        }),
        "history" => all(2, |last: Option<&String>| {
            messages::recent_before(2, None, last.map(String::as_str))
                .into_iter()
                .map(|m| m.id)
                .collect()
        }),
        "active" => all(1, |last: Option<&String>| {
            members::active_since(0, last.map(String::as_str), 1)
                .into_iter()
                .map(|m| m.id)
                .collect()
        }),
        _ => return Ok(()),
    };
    post(format!("{text}:{}", listed.join(",")))
}

impl Handler for ContractV2 {
    fn handle(_ctx: Context, event: Event) -> Result<Reply, String> {
        match event {
            Event::JoinRequest(r) if r.display_name.starts_with("bot") => Ok(Reply::Decision(
                Decision::Reject("bots are not admitted".into()),
            )),
            Event::Message(m) => on_message(&m.text).map(|()| Reply::Done),
            _ => Ok(Reply::Done),
        }
    }
}

export!(ContractV2);
