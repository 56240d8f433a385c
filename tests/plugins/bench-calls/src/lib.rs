//! For the host-call benchmark (`host/benches/runtime.rs`): a message whose
//! text is a number N makes the plugin call `config::get()` N times, so the
//! cost of one host call is (t(N) - t(0)) / N. Anything else is ignored.

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::config;
use kith::plugin::types::{Context, Member, Message, PluginKind, Reaction, TimerFired};

struct BenchCalls;

impl Guest for BenchCalls {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "bench-calls".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Calls config.get N times on a message \"N\": for benchmarks only.".into(),
            config_schema: r#"{"type":"object"}"#.into(),
            capabilities: vec![],
        }
    }
}

impl Game for BenchCalls {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }
    fn on_member_joined(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_member_left(_ctx: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        let n: u32 = message.text.trim().parse().unwrap_or(0);
        let mut total = 0usize;
        for _ in 0..n {
            total = total.wrapping_add(std::hint::black_box(config::get()).len());
        }
        std::hint::black_box(total);
        Ok(())
    }
    fn on_reaction(_ctx: Context, _r: Reaction) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_ctx: Context, _t: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(BenchCalls);
