//! `welcome-ritual`: greets each newcomer with an @mention and the group's
//! rules, a short while after they join (once they have had time to arrive).

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{
    Capability, Context, Member, MemberStatus, Message, PluginKind, Reaction, TimerFired,
};
use kith::plugin::{groups, members, timers};
use logic::Config;

struct WelcomeRitual;

impl Guest for WelcomeRitual {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "welcome-ritual".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description:
                "Welcomes each newcomer with an @mention and the group rules after a short delay."
                    .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::PostMessages,
                Capability::Timers,
            ],
        }
    }
}

impl Game for WelcomeRitual {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        host::config::<Config>()?.validate().map(drop)
    }

    fn on_member_joined(ctx: Context, member: Member) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        let at = ctx.now + i64::from(cfg.delay_seconds) * 1000;
        timers::set_once(&logic::timer_name(&member.id), at, &member.id)
            .map_err(|e| host::err("timers.set-once", e))
    }

    fn on_member_left(_ctx: Context, member: Member) -> Result<(), String> {
        timers::cancel(&logic::timer_name(&member.id)).map_err(|e| host::err("timers.cancel", e))
    }

    fn on_message(_ctx: Context, _message: Message) -> Result<(), String> {
        Ok(())
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, timer: TimerFired) -> Result<(), String> {
        let Some(id) = timer.name.strip_prefix(logic::TIMER_PREFIX) else {
            return Ok(());
        };
        // Checked again at firing time: the cancel on leave may have been
        // missed (plugin disabled meanwhile), and a greeting to someone who
        // is gone reads as noise.
        let Some(member) = members::get(id).filter(|m| m.status == MemberStatus::Active) else {
            return Ok(());
        };
        let cfg = host::config::<Config>()?.validate()?;
        let name =
            kith_plugin_util::display_name(Some(&member.display_name), &member.id).to_string();
        let rules = cfg.rules(&groups::current().settings);
        messages::post(&Outgoing {
            text: logic::welcome_text(&cfg, &name, &rules),
            mentions: vec![member.id.clone()],
            reply_to: None,
        })
        .map(drop)
        .map_err(|e| host::err("messages.post", e))
    }
}

export!(WelcomeRitual);
