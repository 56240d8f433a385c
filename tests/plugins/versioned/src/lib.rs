//! The plugin "versioned", in three builds for the lifecycle tests:
//! - 1.0.0: config `{"greeting": string}`; `/hello` posts `v1: <greeting>
//!   #<n>`, where n counts the hellos in storage (kept across versions);
//!   `on-enabled` posts `enabled 1.0.0`.
//! - 2.0.0 (feature `v2`): the schema also requires an integer
//!   `threshold`; it declares `ledger` too; posts `v2: …`.
//! - 3.0.0 (feature `gate`): an entry gate, which an upgrade must refuse.

#[cfg(not(feature = "gate"))]
wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
#[cfg(feature = "gate")]
wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "entry-gate" });

use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{Capability, Context, Message, PluginKind, TimerFired};
use kith::plugin::{config, storage};

const VERSION: &str = env!("CARGO_PKG_VERSION");

struct Versioned;

#[cfg(not(any(feature = "v2", feature = "gate")))]
const SCHEMA: &str = r#"{"type":"object","properties":{"greeting":{"type":"string"},"language":{"type":"string"}},"additionalProperties":false}"#;
#[cfg(any(feature = "v2", feature = "gate"))]
const SCHEMA: &str = r#"{"type":"object","properties":{"greeting":{"type":"string"},"threshold":{"type":"integer","minimum":1},"language":{"type":"string"}},"required":["threshold"],"additionalProperties":false}"#;

fn capabilities() -> Vec<Capability> {
    let mut caps = vec![Capability::PostMessages, Capability::Storage];
    if cfg!(any(feature = "v2", feature = "gate")) {
        caps.push(Capability::Ledger);
    }
    caps
}

impl Guest for Versioned {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "versioned".into(),
            version: VERSION.into(),
            kind: if cfg!(feature = "gate") {
                PluginKind::EntryGate
            } else {
                PluginKind::ActivityGame
            },
            description: "One plugin in three versions: for the lifecycle tests only.".into(),
            config_schema: SCHEMA.into(),
            capabilities: capabilities(),
        }
    }
}

fn post(text: String) -> Result<(), String> {
    let message = Outgoing {
        text,
        mentions: vec![],
        reply_to: None,
    };
    messages::post(&message).map(drop).map_err(|e| e.message)
}

/// The greeting of the config, or "hello".
fn greeting() -> String {
    let text = config::get();
    let Some(at) = text.find("\"greeting\"") else {
        return "hello".into();
    };
    let rest = text[at + "\"greeting\"".len()..].trim_start_matches([':', ' ', '"']);
    rest.split('"').next().unwrap_or("hello").to_string()
}

fn enabled() -> Result<(), String> {
    post(format!("enabled {VERSION}"))
}

fn message(message: Message) -> Result<(), String> {
    if message.text.trim() != "/hello" {
        return Ok(());
    }
    let count: u64 = storage::get("hellos")
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
        + 1;
    storage::set("hellos", count.to_string().as_bytes()).map_err(|e| e.message)?;
    let major = VERSION.split('.').next().unwrap_or("?");
    post(format!("v{major}: {} #{count}", greeting()))
}

#[cfg(not(feature = "gate"))]
impl exports::kith::plugin::game::Guest for Versioned {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        enabled()
    }
    fn on_member_joined(_ctx: Context, _m: kith::plugin::types::Member) -> Result<(), String> {
        Ok(())
    }
    fn on_member_left(_ctx: Context, _m: kith::plugin::types::Member) -> Result<(), String> {
        Ok(())
    }
    fn on_message(_ctx: Context, m: Message) -> Result<(), String> {
        message(m)
    }
    fn on_reaction(_ctx: Context, _r: kith::plugin::types::Reaction) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_ctx: Context, _t: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(feature = "gate")]
impl exports::kith::plugin::gate::Guest for Versioned {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        enabled()
    }
    fn on_join_request(
        _ctx: Context,
        _r: kith::plugin::types::JoinRequest,
    ) -> Result<kith::plugin::types::Decision, String> {
        Ok(kith::plugin::types::Decision::Admit("welcome".into()))
    }
    fn on_challenge_answer(
        _ctx: Context,
        _r: kith::plugin::types::JoinRequest,
        _answer: String,
    ) -> Result<kith::plugin::types::Decision, String> {
        Ok(kith::plugin::types::Decision::Admit("welcome".into()))
    }
    fn on_message(_ctx: Context, m: Message) -> Result<(), String> {
        message(m)
    }
    fn on_payment(_ctx: Context, _p: kith::plugin::types::Payment) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_ctx: Context, _t: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(Versioned);
