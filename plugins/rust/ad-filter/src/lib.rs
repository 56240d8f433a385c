//! `ad-filter`: moderation. Deletes messages with links or blocked words
//! from non-privileged members, warns them, and removes them after
//! repeated offences. Enable it first, so later plugins never see spam.

mod logic;
mod spam;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{
    Capability, Context, Member, Message, MessageKind, PluginKind, Reaction, TimerFired,
};
use kith::plugin::{members, storage};
use logic::{Config, Verdict};

struct AdFilter;

impl Guest for AdFilter {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "ad-filter".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Moderation: deletes messages with ad links or blocked words, warns \
                          the sender, and removes members after repeated offences."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::DeleteMessages,
                Capability::DirectMessages,
                Capability::PostMessages,
                Capability::Storage,
            ],
        }
    }
}

/// Remembers the message; why it must go if enough others sent the same.
fn repeated(ctx: &Context, message: &Message, cfg: &Config) -> Result<Option<String>, String> {
    if cfg.repeat_threshold == 0 {
        return Ok(None);
    }
    let mut recent: Vec<spam::Seen> = host::load(logic::RECENT_KEY)?.unwrap_or_default();
    let reason = logic::repeat_offence(&mut recent, &message.text, &message.sender, ctx.now, cfg);
    host::save(logic::RECENT_KEY, &recent)?;
    Ok(reason)
}

impl Game for AdFilter {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        host::config::<Config>()?.validate().map(drop)
    }

    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(ctx: Context, message: Message) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        let Some(sender) = members::get(&message.sender) else {
            return Ok(());
        };
        if cfg.is_exempt(host::role_name(sender.role)) {
            return Ok(());
        }
        let is_image = message.kind == MessageKind::Image;
        // A QR code's payload is often a link: name the QR code first.
        let found = logic::image_offence(is_image, &message.text, &cfg)
            .or_else(|| logic::offence(&message.text, &message.links, &cfg));
        let Some(reason) = found.map_or_else(|| repeated(&ctx, &message, &cfg), |r| Ok(Some(r)))?
        else {
            return Ok(());
        };
        messages::delete(&message.id, &reason).map_err(|e| host::err("messages.delete", e))?;
        let key = logic::warn_key(&sender.id);
        let previous: Vec<i64> = host::load(&key)?.unwrap_or_default();
        match logic::record(&previous, ctx.now, &cfg) {
            Verdict::Warn { warnings, count } => {
                host::save(&key, &warnings)?;
                messages::direct(&sender.id, &logic::warning_message(count, &cfg, &reason))
                    .map_err(|e| host::err("messages.direct", e))
            }
            Verdict::Remove { count } => {
                members::remove(&sender.id, &logic::removal_reason(&cfg, count, &reason))
                    .map_err(|e| host::err("members.remove", e))?;
                // A member who is let back in later starts with a clean slate.
                storage::delete(&key).map_err(|e| host::err("storage.delete", e))?;
                let name = kith_plugin_util::display_name(Some(&sender.display_name), &sender.id);
                messages::post(&Outgoing {
                    text: logic::removed_message(&cfg, name, count),
                    mentions: vec![],
                    reply_to: None,
                })
                .map(drop)
                .map_err(|e| host::err("messages.post", e))
            }
        }
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(AdFilter);
