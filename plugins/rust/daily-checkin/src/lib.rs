//! `daily-checkin`: members check in once per local day, earn points that
//! grow with their streak, and can ask for a leaderboard.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{Capability, Context, Member, Message, PluginKind, Reaction, TimerFired};
use kith::plugin::{groups, members, storage, timers};
use logic::{CheckIn, Config, MemberState};

struct DailyCheckin;

const REMINDER: &str = "reminder";

fn post(text: String, mentions: Vec<String>) -> Result<(), String> {
    messages::post(&Outgoing {
        text,
        mentions,
        reply_to: None,
    })
    .map(drop)
    .map_err(|e| host::err("messages.post", e))
}

fn check_in(ctx: &Context, cfg: &Config, sender: &str) -> Result<(), String> {
    let day = logic::day_index(ctx.now, groups::current().utc_offset_minutes);
    let key = logic::state_key(sender);
    let prev: Option<MemberState> = host::load(&key)?;
    let name = host::member_name(sender);
    match logic::check_in(prev.as_ref(), day, cfg) {
        CheckIn::Already { streak } => post(
            logic::already_message(&cfg.texts(), &name, streak),
            vec![sender.to_string()],
        ),
        CheckIn::Done { state, reward } => {
            // Points first (buffered, dropped if the handler fails), then the
            // state, then the announcement, so a failure part-way never
            // announces points that were not credited.
            if reward > 0 {
                members::award_points(sender, reward, &logic::award_reason(state.streak))
                    .map_err(|e| host::err("members.award-points", e))?;
            }
            host::save(&key, &state)?;
            post(
                logic::checked_in_message(&cfg.texts(), &name, state.streak, reward),
                vec![sender.to_string()],
            )
        }
    }
}

fn leaderboard(cfg: &Config) -> Result<(), String> {
    let mut entries = Vec::new();
    // 0 = the host's maximum (1000 keys); the interface has no cursor to page
    // further, which is plenty for one group's check-in board.
    for key in storage::list_keys(logic::STATE_PREFIX, 0) {
        let Some(id) = key.strip_prefix(logic::STATE_PREFIX) else {
            continue;
        };
        // One corrupted record should not take the whole board down.
        match host::load::<MemberState>(&key) {
            Ok(Some(state)) => entries.push((id.to_string(), state)),
            Ok(None) => {}
            Err(e) => host::warn(&e),
        }
    }
    let rows: Vec<(String, MemberState)> = logic::rank(entries, cfg.leaderboard_size)
        .into_iter()
        .map(|(id, state)| (host::member_name(&id), state))
        .collect();
    post(logic::leaderboard_message(&cfg.texts(), &rows), Vec::new())
}

impl Guest for DailyCheckin {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "daily-checkin".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Daily check-in with streak bonuses and a leaderboard.".into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::PostMessages,
                Capability::AwardPoints,
                Capability::Storage,
                Capability::Timers,
            ],
        }
    }
}

impl Game for DailyCheckin {
    /// (Re)schedules the daily reminder for the current config.
    fn on_enabled(ctx: Context) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        match cfg.reminder_hour {
            Some(hour) => {
                let first =
                    logic::next_local_hour(ctx.now, groups::current().utc_offset_minutes, hour);
                timers::set_recurring(REMINDER, first, 86_400_000, "")
            }
            None => timers::cancel(REMINDER),
        }
        .map_err(|e| host::err("timers", e))
    }

    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(ctx: Context, message: Message) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        // A check-in command wins if an operator configures the same text
        // for both.
        if cfg.is_checkin(&message.text) {
            check_in(&ctx, &cfg, &message.sender)
        } else if cfg.is_leaderboard(&message.text) {
            leaderboard(&cfg)
        } else {
            Ok(())
        }
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, timer: TimerFired) -> Result<(), String> {
        if timer.name != REMINDER {
            return Ok(());
        }
        let cfg = host::config::<Config>()?.validate()?;
        post(logic::reminder_message(&cfg), Vec::new())
    }
}

export!(DailyCheckin);
