//! A plugin that records what it sees, for the many-processes test:
//! - a message `seq:N` appends `N` to the storage key `seen` (so the test
//!   reads the order in which the group's events were processed, and that
//!   each was processed once) and posts `ack:N` (an outbox action);
//! - `fund:N` moves N points from the issuer into `escrow:wallet`; `spend`
//!   moves 1 point out of it, or does nothing when it is empty;
//! - with `tick_ms` in its config, a recurring timer adds 1 to `ticks`.

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::ledger::{self, Asset};
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{Capability, Context, Member, Message, PluginKind, Reaction, TimerFired};
use kith::plugin::{config, storage, timers};

struct Sequence;

impl Guest for Sequence {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "sequence".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Records the order of its events, spends from a wallet: for tests only."
                .into(),
            config_schema: r#"{"type":"object","properties":{"tick_ms":{"type":"integer","minimum":1000},"language":{"type":"string"}},"additionalProperties":false}"#.into(),
            capabilities: vec![
                Capability::PostMessages,
                Capability::Ledger,
                Capability::Timers,
                Capability::Storage,
            ],
        }
    }
}

/// The `tick_ms` of the config, if set.
fn tick_ms() -> Option<u64> {
    let text = config::get();
    let rest = &text[text.find("\"tick_ms\"")? + "\"tick_ms\"".len()..];
    let digits: String = rest
        .trim_start_matches([':', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn text_of(key: &str) -> String {
    storage::get(key)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

fn append_seen(n: &str) -> Result<(), String> {
    let mut seen = text_of("seen");
    if !seen.is_empty() {
        seen.push(',');
    }
    seen.push_str(n);
    storage::set("seen", seen.as_bytes()).map_err(|e| e.message)
}

impl Game for Sequence {
    fn on_enabled(ctx: Context) -> Result<(), String> {
        match tick_ms() {
            Some(ms) => timers::set_recurring("tick", ctx.now + ms as i64, ms, ""),
            None => timers::cancel("tick"),
        }
        .map_err(|e| e.message)
    }
    fn on_member_joined(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_member_left(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        let text = message.text.trim();
        if let Some(n) = text.strip_prefix("seq:") {
            append_seen(n)?;
            let ack = Outgoing {
                text: format!("ack:{n}"),
                mentions: vec![],
                reply_to: None,
            };
            messages::post(&ack).map_err(|e| e.message)?;
        } else if let Some(n) = text.strip_prefix("fund:") {
            let amount: i64 = n
                .parse()
                .map_err(|_| format!("fund: {n:?} is not a number"))?;
            ledger::transfer("issuer", "escrow:wallet", Asset::Points, amount, "fund")
                .map_err(|e| e.message)?;
        } else if text == "spend" {
            // An empty wallet refuses the transfer: nothing is spent.
            let _ = ledger::transfer("escrow:wallet", "issuer", Asset::Points, 1, "spend");
        }
        Ok(())
    }
    fn on_reaction(_ctx: Context, _r: Reaction) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_ctx: Context, _t: TimerFired) -> Result<(), String> {
        let ticks: u64 = text_of("ticks").parse().unwrap_or(0);
        storage::set("ticks", (ticks + 1).to_string().as_bytes()).map_err(|e| e.message)
    }
}

export!(Sequence);
