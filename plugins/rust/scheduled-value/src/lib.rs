//! `scheduled-value`: the group's regular value output — a weekly lecture
//! (announcement and reminder) and a monthly lottery among active members.

mod logic;

// kith:plugin@0.2.0: one `handle` export, so only the events it uses
// (enabled, timer) appear below.
wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::handler::{Event, Guest as Handler, Reply};
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{Capability, Context, PluginKind, TimerFired};
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
    let candidates = active_since(since);
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

/// Every active member who spoke or reacted since `since` (members who
/// left or were removed are not eligible).
fn active_since(since: i64) -> Vec<String> {
    kith_plugin_util::all_pages(1000, |last: Option<&String>| {
        let page = members::active_since(since, last.map(String::as_str), 1000);
        page.into_iter().map(|m| m.id).collect()
    })
}

impl Guest for ScheduledValue {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "scheduled-value".into(),
            version: "0.2.0".into(),
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

impl Handler for ScheduledValue {
    fn handle(ctx: Context, event: Event) -> Result<Reply, String> {
        match event {
            Event::Enabled => {
                let cfg = host::config::<Config>()?.validate()?;
                schedule(&cfg, ctx.now)?
            }
            Event::Timer(timer) => on_timer(ctx, timer)?,
            _ => {}
        }
        Ok(Reply::Done)
    }
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

export!(ScheduledValue);
