//! `referral-fission`: credits members for the friends they bring in and
//! rewards them once when they reach a threshold.

mod logic;

// kith:plugin@0.2.1: one `handle` export (only member-joined and message are
// of use) and `members.referral-code`, the host-issued code a member shares:
// only a join naming it is attributed, so a referrer cannot be forged.
wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::handler::{Event, Guest as Handler, Reply};
use kith::plugin::types::{Capability, ErrorCode, Member, Message, PluginKind};
use kith::plugin::{members, messages};
use logic::Config;

struct ReferralFission;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

impl Guest for ReferralFission {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "referral-fission".into(),
            version: "0.2.0".into(),
            kind: PluginKind::ConversionFlow,
            description: "Counts the friends each member brings in and rewards members who \
                          reach a threshold with points and a tag."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::DirectMessages,
                Capability::AwardPoints,
                Capability::Storage,
            ],
        }
    }
}

impl Handler for ReferralFission {
    fn handle(_ctx: kith::plugin::types::Context, event: Event) -> Result<Reply, String> {
        match event {
            Event::Enabled => config().map(drop)?,
            Event::MemberJoined(member) => member_joined(&member)?,
            Event::Message(message) => send_link(&message)?,
            _ => {}
        }
        Ok(Reply::Done)
    }
}

fn member_joined(member: &Member) -> Result<(), String> {
    let attributed_key = logic::attributed_key(&member.id);
    let already = host::exists(&attributed_key);
    let Some(referrer) = logic::referrer_to_credit(&member.id, member.inviter.as_deref(), already)
    else {
        return Ok(());
    };
    let cfg = config()?;
    let count_key = logic::count_key(referrer);
    let count = host::load::<u32>(&count_key)?
        .unwrap_or(0)
        .saturating_add(1);
    let rewarded = logic::unlocks_reward(count, &cfg);
    // Member writes are buffered and dropped if the handler fails, so
    // they go before the storage writes, and the message goes last so it
    // never announces a reward that was rolled back.
    if rewarded {
        if cfg.reward_points > 0 {
            members::award_points(referrer, cfg.reward_points, &logic::award_reason(&cfg))
                .map_err(|e| host::err("members.award-points", e))?;
        }
        match members::add_tag(referrer, &cfg.reward_tag) {
            // Already tagged (e.g. by an operator): the goal is met.
            Err(e) if e.code == ErrorCode::Conflict => {}
            r => r.map_err(|e| host::err("members.add-tag", e))?,
        }
    }
    host::save(&attributed_key, &referrer)?;
    host::save(&count_key, &count)?;
    if rewarded {
        messages::direct(referrer, &logic::reward_message(&cfg))
            .map_err(|e| host::err("messages.direct", e))?;
    }
    Ok(())
}

fn send_link(message: &Message) -> Result<(), String> {
    let cfg = config()?;
    if !kith_plugin_util::is_command(&message.text, &cfg.link_command) {
        return Ok(());
    }
    let code = match members::referral_code(&message.sender) {
        Ok(code) => code,
        // A sender who is not (or no longer) an active member has no code.
        Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::NotFound) => return Ok(()),
        Err(e) => return Err(host::err("members.referral-code", e)),
    };
    messages::direct(&message.sender, &logic::link_message(&code, &cfg))
        .map_err(|e| host::err("messages.direct", e))
}

export!(ReferralFission);
