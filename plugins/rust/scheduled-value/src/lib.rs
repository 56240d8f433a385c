//! `scheduled-value`: the group's regular value output — a weekly lecture
//! (announcement and reminder) and a monthly lottery among active members.

mod logic;

wit_bindgen::generate!({ path: "../../../wit", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{
    Capability, Context, Member, MemberStatus, Message, PluginKind, Reaction, TimerFired,
};
use kith::plugin::{groups, members, timers};
use logic::{Config, Lottery};

struct ScheduledValue;

fn post(text: String, mentions: Vec<String>) -> Result<(), String> {
    messages::post(&Outgoing {
        text,
        mentions,
        reply_to: None,
    })
    .map(drop)
    .map_err(|e| host::err("messages.post", e))
}

fn timer_err(e: kith::plugin::types::Error) -> String {
    host::err("timers", e)
}

/// Sets every timer from the config, each at its next local time after
/// `now`. Called again whenever a timer fires, so a change of UTC offset
/// (daylight saving) is picked up instead of drifting by an hour.
fn schedule(cfg: &Config, now: i64) -> Result<(), String> {
    let offset = groups::current().utc_offset_minutes;
    match &cfg.lecture {
        Some(l) => {
            for (name, before) in [
                (logic::ANNOUNCE, i64::from(l.announce_hours_before) * 60),
                (logic::REMIND, i64::from(l.remind_minutes_before)),
            ] {
                let first = logic::next_weekly(now, offset, logic::minute_of_week(l, before));
                timers::set_recurring(name, first, logic::WEEK_MS as u64, "").map_err(timer_err)?;
            }
        }
        None => {
            timers::cancel(logic::ANNOUNCE).map_err(timer_err)?;
            timers::cancel(logic::REMIND).map_err(timer_err)?;
        }
    }
    match &cfg.lottery {
        // One-shot, re-set after each draw: months differ in length, so no
        // fixed period fits.
        Some(l) => timers::set_once(
            logic::LOTTERY,
            logic::next_monthly(now, offset, l.day_of_month, l.hour),
            "",
        ),
        None => timers::cancel(logic::LOTTERY),
    }
    .map_err(timer_err)
}

fn lottery(ctx: &Context, cfg: &Config, l: &Lottery) -> Result<(), String> {
    let since = ctx.now - i64::from(l.active_days) * logic::DAY_MS;
    // Plugin posts and members who left or were removed are not eligible.
    let candidates: Vec<String> = messages::recent(200, Some(since))
        .into_iter()
        .map(|m| m.sender)
        .filter(|s| members::get(s).is_some_and(|m| m.status == MemberStatus::Active))
        .collect();
    let winners = logic::pick(candidates, l.winners, ctx.seed);
    for w in &winners {
        members::award_points(w, l.prize_points, "monthly lottery")
            .map_err(|e| host::err("members.award-points", e))?;
    }
    let names: Vec<String> = winners.iter().map(|w| host::member_name(w)).collect();
    post(
        logic::winners_message(&cfg.texts(), &names, l.prize_points),
        winners,
    )
}

impl Guest for ScheduledValue {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "scheduled-value".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description:
                "Weekly lecture announcement and reminder; monthly lottery among active members."
                    .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::PostMessages,
                Capability::AwardPoints,
                Capability::Timers,
            ],
        }
    }
}

impl Game for ScheduledValue {
    fn on_enabled(ctx: Context) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        schedule(&cfg, ctx.now)
    }

    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(_ctx: Context, _message: Message) -> Result<(), String> {
        Ok(())
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(ctx: Context, timer: TimerFired) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        match (timer.name.as_str(), &cfg.lecture, &cfg.lottery) {
            (name @ (logic::ANNOUNCE | logic::REMIND), Some(l), _) => {
                let key = if name == logic::ANNOUNCE {
                    "announcement"
                } else {
                    "reminder"
                };
                // The first start after the timer was due: the one it is for.
                let clock = host::clock();
                let minute = logic::minute_of_week(l, 0);
                let start = logic::next_weekly(timer.due_at, clock.utc_offset_minutes, minute);
                let text = logic::lecture_message(&cfg.texts(), key, &clock, l, start);
                post(text, vec![])?
            }
            (logic::LOTTERY, _, Some(l)) => lottery(&ctx, &cfg, l)?,
            _ => {}
        }
        schedule(&cfg, ctx.now.max(timer.due_at))
    }
}

export!(ScheduledValue);
