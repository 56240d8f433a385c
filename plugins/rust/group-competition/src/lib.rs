//! `group-competition`: groups of an alliance compete on activity over a
//! period; when it closes, the members who spoke in a winning group get
//! points, and every group hears its rank.

mod logic;

// kith:plugin@0.2.0: one `handle` export, so only the events it uses
// (enabled, message, timer) appear below.
wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::handler::{Event, Guest as Handler, Reply};
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{Capability, Context, Message, PluginKind, TimerFired};
use kith::plugin::{groups, members, timers};
use logic::{Config, Outcome, Row};

struct GroupCompetition;

fn post(text: String) -> Result<(), String> {
    messages::post(&Outgoing {
        text,
        mentions: vec![],
        reply_to: None,
    })
    .map(drop)
    .map_err(|e| host::err("messages.post", e))
}

fn ranked_since(since: i64) -> Vec<Row> {
    logic::rank(
        groups::activity(since)
            .into_iter()
            .map(|a| Row {
                group: a.group,
                messages: a.messages,
                active_members: a.active_members,
            })
            .collect(),
    )
}

/// Where the running period began: the last close, or one period back
/// before the first close.
fn period_start(cfg: &Config, now: i64) -> Result<i64, String> {
    Ok(host::load::<i64>(logic::PERIOD_START)?.unwrap_or(now - cfg.period_ms()))
}

/// Active members who spoke or reacted in this group since `since`, all
/// of them, page by page (plugin posts have no member behind them, and
/// those who left are not rewarded for a group they no longer belong to).
fn active_speakers(since: i64) -> Vec<String> {
    kith_plugin_util::all_pages(1000, |last: Option<&String>| {
        let page = members::active_since(since, last.map(String::as_str), 1000);
        page.into_iter().map(|m| m.id).collect()
    })
}

fn close(cfg: &Config, ctx: &Context) -> Result<(), String> {
    let since = period_start(cfg, ctx.now)?;
    let ranked = ranked_since(since);
    let text = match logic::outcome(cfg, &ranked, &ctx.group) {
        Outcome::Won { rank, of, messages } => {
            let winners = active_speakers(since);
            if cfg.reward_points > 0 {
                for w in &winners {
                    members::award_points(w, cfg.reward_points, "group competition")
                        .map_err(|e| host::err("members.award-points", e))?;
                }
            }
            let name = groups::current().name;
            logic::won_message(
                &cfg.texts(),
                &name,
                rank,
                of,
                messages,
                cfg.reward_points,
                winners.len(),
            )
        }
        Outcome::Lost {
            rank,
            of,
            messages,
            winner,
            winner_messages,
        } => logic::lost_message(&cfg.texts(), rank, of, messages, &winner, winner_messages),
        Outcome::Quiet => logic::quiet_message(&cfg.texts()),
    };
    host::save(logic::PERIOD_START, &ctx.now)?;
    if cfg.announce {
        post(text)?;
    }
    Ok(())
}

fn standings(cfg: &Config, now: i64) -> Result<(), String> {
    let ranked = ranked_since(period_start(cfg, now)?);
    let current = groups::current();
    let mut known = vec![(current.id, current.name)];
    known.extend(groups::siblings().into_iter().map(|g| (g.id, g.name)));
    let names: Vec<String> = ranked
        .iter()
        .map(|r| {
            known
                .iter()
                .find(|(id, _)| *id == r.group)
                .map_or_else(|| r.group.clone(), |(_, n)| n.clone())
        })
        .collect();
    post(logic::standings_message(&cfg.texts(), &ranked, &names))
}

impl Guest for GroupCompetition {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "group-competition".into(),
            version: "0.2.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Groups of an alliance compete on messages per period; the winners' active members get points.".into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::PostMessages,
                Capability::AwardPoints,
                Capability::Timers,
                Capability::Storage,
            ],
        }
    }
}

impl Handler for GroupCompetition {
    fn handle(ctx: Context, event: Event) -> Result<Reply, String> {
        match event {
            Event::Enabled => on_enabled(ctx)?,
            Event::Message(message) => on_message(ctx, message)?,
            Event::Timer(timer) => on_timer(ctx, timer)?,
            _ => {}
        }
        Ok(Reply::Done)
    }
}

fn on_enabled(ctx: Context) -> Result<(), String> {
    let cfg = host::config::<Config>()?.validate()?;
    let first = logic::first_close(&cfg, ctx.now, groups::current().utc_offset_minutes);
    timers::set_recurring(logic::CLOSE, first, cfg.period_ms() as u64, "")
        .map_err(|e| host::err("timers", e))
}

/// The standings command (`logic::COMMAND`): the ranking so far.
fn on_message(ctx: Context, message: Message) -> Result<(), String> {
    if !kith_plugin_util::is_command(&message.text, logic::COMMAND) {
        return Ok(());
    }
    let cfg = host::config::<Config>()?.validate()?;
    standings(&cfg, ctx.now)
}

fn on_timer(ctx: Context, timer: TimerFired) -> Result<(), String> {
    if timer.name != logic::CLOSE {
        return Ok(());
    }
    let cfg = host::config::<Config>()?.validate()?;
    close(&cfg, &ctx)?;
    // Re-set so the close stays at the local hour across offset changes.
    let next = logic::next_close(
        &cfg,
        timer.due_at,
        ctx.now,
        groups::current().utc_offset_minutes,
    );
    timers::set_recurring(logic::CLOSE, next, cfg.period_ms() as u64, "")
        .map_err(|e| host::err("timers", e))
}

export!(GroupCompetition);
