//! A plugin whose config schema is not a JSON Schema: hosts must refuse it.

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "conversion-flow" });

use exports::kith::plugin::flow::Guest as Flow;
use kith::plugin::types::{Context, Member, Message, Payment, PluginKind, Reaction, TimerFired};

struct BadSchema;

impl Guest for BadSchema {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "bad-schema".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ConversionFlow,
            description: "Declares an invalid config schema.".into(),
            config_schema: r#"{"type": 5, "properties": []}"#.into(),
            capabilities: vec![],
        }
    }
}

impl Flow for BadSchema {
    fn on_enabled(_c: Context) -> Result<(), String> {
        Ok(())
    }
    fn on_member_joined(_c: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_member_left(_c: Context, _m: Member) -> Result<(), String> {
        Ok(())
    }
    fn on_message(_c: Context, _m: Message) -> Result<(), String> {
        Ok(())
    }
    fn on_reaction(_c: Context, _r: Reaction) -> Result<(), String> {
        Ok(())
    }
    fn on_payment(_c: Context, _p: Payment) -> Result<(), String> {
        Ok(())
    }
    fn on_timer(_c: Context, _t: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(BadSchema);
