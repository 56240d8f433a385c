//! `lurker-revival`: a daily scan finds members silent for N days, invites
//! them back by DM, warns those who stay silent, then removes them. A member
//! who speaks again leaves the process.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "conversion-flow" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::flow::Guest as Flow;
use kith::plugin::members::MemberFilter;
use kith::plugin::types::{
    Capability, Context, Member, MemberStatus, Message, Payment, PluginKind, Reaction, Role,
    TimerFired,
};
use kith::plugin::{groups, members, messages, storage, timers};
use logic::{Config, Stage, State, Step};

struct LurkerRevival;

const SCAN: &str = "scan";

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

fn dm(member: &str, text: &str) -> Result<(), String> {
    messages::direct(member, text).map_err(|e| host::err("messages.direct", e))
}

fn scan(ctx: &Context, cfg: &Config) -> Result<(), String> {
    let group = groups::current();
    let silent = members::find(&MemberFilter {
        role: None,
        tag: None,
        status: Some(MemberStatus::Active),
        inactive_since: Some(ctx.now - i64::from(cfg.silent_days) * logic::DAY_MS),
        limit: 0,
    });
    for m in silent {
        // The host refuses to remove owners and admins anyway; they are
        // not pestered with invitations either.
        if matches!(m.role, Role::Owner | Role::Admin) {
            continue;
        }
        let key = logic::state_key(&m.id);
        let state: Option<State> = host::load(&key)?;
        let name = kith_plugin_util::display_name(Some(&m.display_name), &m.id);
        match logic::next_step(state.as_ref(), ctx.now, cfg) {
            Step::Wait => {}
            Step::Invite => {
                dm(
                    &m.id,
                    &logic::render(cfg, &cfg.dm_text, "invite", name, &group.name),
                )?;
                host::save(
                    &key,
                    &State {
                        stage: Stage::Invited,
                        at: ctx.now,
                    },
                )?;
            }
            Step::Warn => {
                dm(
                    &m.id,
                    &logic::render(cfg, &cfg.warn_text, "warn", name, &group.name),
                )?;
                host::save(
                    &key,
                    &State {
                        stage: Stage::Warned,
                        at: ctx.now,
                    },
                )?;
            }
            Step::Remove => {
                let last = m.last_active_at.or(m.joined_at).unwrap_or(ctx.now);
                members::remove(&m.id, &logic::removal_reason(cfg, ctx.now - last))
                    .map_err(|e| host::err("members.remove", e))?;
                storage::delete(&key).map_err(|e| host::err("storage.delete", e))?;
            }
        }
    }
    Ok(())
}

/// A member who shows a sign of life leaves the process.
fn came_back(member: &str, cfg: &Config) -> Result<(), String> {
    let key = logic::state_key(member);
    if !host::exists(&key) {
        return Ok(());
    }
    storage::delete(&key).map_err(|e| host::err("storage.delete", e))?;
    if let Some(text) = &cfg.welcome_back_text {
        let name = host::member_name(member);
        dm(
            member,
            &logic::render(cfg, text, "welcome_back", &name, &groups::current().name),
        )?;
    }
    Ok(())
}

impl Guest for LurkerRevival {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "lurker-revival".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ConversionFlow,
            description: "Invites members silent for N days back by DM, warns those still \
                          silent, then removes them; each step configurable."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::DirectMessages,
                Capability::Storage,
                Capability::Timers,
            ],
        }
    }
}

impl Flow for LurkerRevival {
    fn on_enabled(ctx: Context) -> Result<(), String> {
        let cfg = config()?;
        let first =
            logic::next_local_hour(ctx.now, groups::current().utc_offset_minutes, cfg.scan_hour);
        timers::set_recurring(SCAN, first, logic::DAY_MS as u64, "")
            .map_err(|e| host::err("timers.set-recurring", e))
    }

    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_member_left(_ctx: Context, member: Member) -> Result<(), String> {
        let key = logic::state_key(&member.id);
        if host::exists(&key) {
            storage::delete(&key).map_err(|e| host::err("storage.delete", e))?;
        }
        Ok(())
    }

    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        came_back(&message.sender, &config()?)
    }

    fn on_reaction(_ctx: Context, reaction: Reaction) -> Result<(), String> {
        came_back(&reaction.member, &config()?)
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(ctx: Context, timer: TimerFired) -> Result<(), String> {
        if timer.name != SCAN {
            return Ok(());
        }
        scan(&ctx, &config()?)
    }
}

export!(LurkerRevival);
