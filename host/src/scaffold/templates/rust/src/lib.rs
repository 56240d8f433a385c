//! my-plugin: a kith plugin of the `my-world` world.
//!
//! Handlers get a `Context` (group, event id, `now`, a `seed`): use `now`
//! and `seed` instead of a clock or randomness, so that the same events
//! always give the same effects. Host calls are buffered and applied only if
//! the handler returns `Ok`.

wit_bindgen::generate!({ path: "wit", world: "my-world" });

use exports::kith::plugin::my_iface::Guest as MyIface;
use kith::plugin::types::*;
use kith::plugin::{config, log, messages};

struct Plugin;

impl Guest for Plugin {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "my-plugin".into(),
            version: "0.1.0".into(),
            kind: PluginKind::MyKind,
            description: "Describe what my-plugin does for a group.".into(),
            // JSON Schema of the config operators give when enabling it.
            config_schema: r#"{
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "greeting": {"type": "string", "default": "hello", "description": "What to answer to /hello."}
                }
            }"#
            .into(),
            capabilities: vec![Capability::PostMessages],
        }
    }
}

/// The configured greeting, or the default.
fn greeting() -> String {
    let config = config::get();
    // A real plugin would parse this with serde_json.
    match config.split("\"greeting\":\"").nth(1).and_then(|rest| rest.split('"').next()) {
        Some(g) => g.to_string(),
        None => "hello".to_string(),
    }
}

/// Answers "/hello" in the group.
fn on_text(message: &Message) -> Result<(), String> {
    if message.text.trim() != "/hello" {
        return Ok(());
    }
    log::log(log::Level::Info, &format!("greeting {}", message.sender));
    let text = format!("{} @{}!", greeting(), message.sender);
    messages::post(&messages::Outgoing { text, mentions: vec![message.sender.clone()], reply_to: Some(message.id.clone()) })
        .map(|_| ())
        .map_err(|e| format!("post failed: {:?}: {}", e.code, e.message))
}

impl MyIface for Plugin {
    // handler: on-enabled
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    // handler: on-join-request
    /// Every applicant is admitted: put your threshold here.
    fn on_join_request(_ctx: Context, request: JoinRequest) -> Result<Decision, String> {
        Ok(Decision::Admit(format!("welcome, {}", request.display_name)))
    }

    // handler: on-challenge-answer
    fn on_challenge_answer(_ctx: Context, _request: JoinRequest, _answer: String) -> Result<Decision, String> {
        Ok(Decision::Reject("this gate asks no questions".into()))
    }

    // handler: on-member-joined
    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    // handler: on-member-left
    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    // handler: on-message
    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        on_text(&message)
    }

    // handler: on-reaction
    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    // handler: on-payment
    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    // handler: on-timer
    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
    // end of handlers
}

export!(Plugin);
