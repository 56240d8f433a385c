//! `referral-fission`: credits members for the friends they bring in and
//! rewards them once when they reach a threshold.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "conversion-flow" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::flow::Guest as Flow;
use kith::plugin::types::{
    Capability, Context, ErrorCode, Member, Message, Payment, PluginKind, Reaction, TimerFired,
};
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
            version: "0.1.0".into(),
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

impl Flow for ReferralFission {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    fn on_member_joined(_ctx: Context, member: Member) -> Result<(), String> {
        let attributed_key = logic::attributed_key(&member.id);
        let already = host::exists(&attributed_key);
        let Some(referrer) =
            logic::referrer_to_credit(&member.id, member.inviter.as_deref(), already)
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

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        let cfg = config()?;
        if !kith_plugin_util::is_command(&message.text, &cfg.link_command) {
            return Ok(());
        }
        messages::direct(&message.sender, &logic::link_message(&message.sender, &cfg))
            .map_err(|e| host::err("messages.direct", e))
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(ReferralFission);
