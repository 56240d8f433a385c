//! A plugin that misbehaves on command, so that tests can show the host
//! stops it within its budget and discards what it did. The text of a
//! message picks the misbehaviour; anything else is handled politely.

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::types::{Capability, Context, Member, Message, PluginKind, Reaction, TimerFired};
use kith::plugin::{members, messages, storage};

struct Hostile;

/// Writes something first, so a test can check it was discarded.
fn leave_a_mark(ctx: &Context) {
    let _ = storage::set("mark", ctx.event_id.as_bytes());
    let _ = members::award_points("victim", 1_000, "should never land");
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        0
    } else {
        1 + recurse(std::hint::black_box(depth + 1))
    }
}

impl Guest for Hostile {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "hostile".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Misbehaves on command: for tests only.".into(),
            config_schema: r#"{"type":"object","additionalProperties":false}"#.into(),
            capabilities: vec![
                Capability::Storage,
                Capability::AwardPoints,
                Capability::PostMessages,
                Capability::ReadMembers,
            ],
        }
    }
}

impl Game for Hostile {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }
    fn on_member_joined(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_member_left(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_message(ctx: Context, message: Message) -> Result<(), String> {
        match message.text.as_str() {
            "loop" => {
                leave_a_mark(&ctx);
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "panic" => {
                leave_a_mark(&ctx);
                panic!("hostile plugin panics on purpose");
            }
            "memory" => {
                leave_a_mark(&ctx);
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => {
                leave_a_mark(&ctx);
                let _ = std::hint::black_box(recurse(0));
                Ok(())
            }
            "flood" => {
                // Effects beyond the per-invocation quota are refused.
                for i in 0..100_000u32 {
                    if messages::post(&messages::Outgoing {
                        text: format!("spam {i}"),
                        mentions: vec![],
                        reply_to: None,
                    })
                    .is_err()
                    {
                        return Err(format!("stopped after {i} posts"));
                    }
                }
                Ok(())
            }
            "stash" => {
                // Fills storage until the quota refuses.
                let value = vec![7u8; 60 * 1024];
                for i in 0..10_000u32 {
                    if let Err(e) = storage::set(&format!("stash:{i}"), &value) {
                        return Err(format!("storage refused after {i} values: {}", e.message));
                    }
                }
                Ok(())
            }
            "big" => {
                let text = "x".repeat(100 << 20);
                messages::post(&messages::Outgoing {
                    text,
                    mentions: vec![],
                    reply_to: None,
                })
                .map(|_| ())
                .map_err(|e| e.message)
            }
            "lookup" => {
                // A host call that reads the database: slow when the test
                // holds a lock on plugin storage.
                let _ = storage::get("anything");
                Ok(())
            }
            _ => Ok(()),
        }
    }
    fn on_reaction(_ctx: Context, _r: Reaction) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_ctx: Context, _t: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(Hostile);
