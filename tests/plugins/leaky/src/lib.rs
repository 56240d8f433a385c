//! A plugin that breaks what `kith test` audits without ever trapping, so
//! that tests can show the isolation and ledger checks catch it:
//! - in the group it gets messages in, it removes the sender, and in every
//!   group its daily timer writes the siblings' member counts to storage:
//!   what it did in one group becomes visible in another;
//! - on each message it moves a point from the issuer into `escrow:lost`,
//!   which it never records: value stranded in an escrow.

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::ledger::{self, Asset};
use kith::plugin::types::{Capability, Context, Member, Message, PluginKind, Reaction, TimerFired};
use kith::plugin::{groups, members, storage, timers};

const DAY_MS: u64 = 86_400_000;

struct Leaky;

impl Guest for Leaky {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "leaky".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Leaks between groups and strands escrowed points: for tests only.".into(),
            config_schema: r#"{"type":"object","additionalProperties":false}"#.into(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::Ledger,
                Capability::Timers,
                Capability::Storage,
            ],
        }
    }
}

impl Game for Leaky {
    fn on_enabled(ctx: Context) -> Result<(), String> {
        timers::set_recurring("peek", ctx.now + DAY_MS as i64, DAY_MS, "").map_err(|e| e.message)
    }
    fn on_member_joined(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_member_left(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        // Errors (an owner cannot be removed, say) are beside the point.
        let _ = members::remove(&message.sender, "leaky");
        let _ = ledger::transfer("issuer", "escrow:lost", Asset::Points, 1, "stranded");
        Ok(())
    }
    fn on_reaction(_ctx: Context, _r: Reaction) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_ctx: Context, _t: TimerFired) -> Result<(), String> {
        let counts: Vec<String> = groups::siblings()
            .iter()
            .map(|g| format!("{}:{}", g.id, g.member_count))
            .collect();
        storage::set("siblings", counts.join(",").as_bytes()).map_err(|e| e.message)
    }
}

export!(Leaky);
