//! `points-levels`: points for messages, replies and reactions received,
//! capped per hour; levels shown as member tags; 7-day, 30-day and all-time
//! boards.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{
    Capability, Context, Member, MemberStatus, Message, PluginKind, Reaction, TimerFired,
};
use kith::plugin::{groups, members, storage};
use logic::{Board, Config, DayTotals, HourUse};

struct PointsLevels;

fn post(text: String, mentions: Vec<String>) -> Result<(), String> {
    messages::post(&Outgoing {
        text,
        mentions,
        reply_to: None,
    })
    .map(drop)
    .map_err(|e| host::err("messages.post", e))
}

fn today(now: i64) -> i64 {
    logic::day_index(now, groups::current().utc_offset_minutes)
}

fn award(cfg: &Config, now: i64, member: &str, wanted: i64, reason: &str) -> Result<(), String> {
    if wanted <= 0 {
        return Ok(());
    }
    let hour_key = format!("{}{member}", logic::HOUR_PREFIX);
    let (granted, usage) = logic::capped(cfg, host::load::<HourUse>(&hour_key)?, now, wanted);
    if granted <= 0 {
        return Ok(());
    }
    members::award_points(member, granted, reason)
        .map_err(|e| host::err("members.award-points", e))?;
    host::save(&hour_key, &usage)?;

    let total_key = format!("{}{member}", logic::TOTAL_PREFIX);
    let before: i64 = host::load(&total_key)?.unwrap_or(0);
    let after = before + granted;
    host::save(&total_key, &after)?;

    let day = today(now);
    let day_key = logic::day_key(day);
    let mut totals: DayTotals = match host::load(&day_key)? {
        Some(t) => t,
        None => {
            // First points of a new day: a good moment to drop days no
            // board can reach any more.
            for old in logic::expired_day_keys(&storage::list_keys(logic::DAY_PREFIX, 0), day) {
                storage::delete(&old).map_err(|e| host::err("storage.delete", e))?;
            }
            DayTotals::new()
        }
    };
    *totals.entry(member.to_string()).or_default() += granted;
    host::save(&day_key, &totals)?;

    let (old, new) = (cfg.level_of(before), cfg.level_of(after));
    if let Some(level) = new.filter(|n| old.is_none_or(|o| o.name != n.name)) {
        retag(cfg, member, &cfg.tag(level))?;
        post(
            logic::level_up_message(&cfg.texts(), &host::member_name(member), &level.name),
            vec![member.to_string()],
        )?;
    }
    Ok(())
}

/// Leaves exactly one level tag on the member.
fn retag(cfg: &Config, member: &str, tag: &str) -> Result<(), String> {
    let current = members::get(member).map(|m| m.tags).unwrap_or_default();
    if !cfg.level_tag_prefix.is_empty() {
        for old in current
            .iter()
            .filter(|t| t.starts_with(&cfg.level_tag_prefix) && *t != tag)
        {
            members::remove_tag(member, old).map_err(|e| host::err("members.remove-tag", e))?;
        }
    }
    if !current.iter().any(|t| t == tag) {
        members::add_tag(member, tag).map_err(|e| host::err("members.add-tag", e))?;
    }
    Ok(())
}

fn board(cfg: &Config, now: i64, which: Board) -> Result<(), String> {
    let mut totals = std::collections::BTreeMap::<String, i64>::new();
    match which {
        Board::Usage => return post(logic::usage(cfg), vec![]),
        Board::AllTime => {
            for key in storage::list_keys(logic::TOTAL_PREFIX, 0) {
                let Some(id) = key.strip_prefix(logic::TOTAL_PREFIX) else {
                    continue;
                };
                match host::load::<i64>(&key) {
                    Ok(Some(p)) => {
                        totals.insert(id.to_string(), p);
                    }
                    Ok(None) => {}
                    Err(e) => host::warn(&e),
                }
            }
        }
        Board::Days(n) => {
            let day = today(now);
            for d in (day - i64::from(n) + 1)..=day {
                match host::load::<DayTotals>(&logic::day_key(d)) {
                    Ok(Some(t)) => {
                        for (id, p) in t {
                            *totals.entry(id).or_default() += p;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => host::warn(&e),
                }
            }
        }
    }
    let rows: Vec<(String, i64)> = logic::top(totals, cfg.board_size)
        .into_iter()
        .map(|(id, p)| (host::member_name(&id), p))
        .collect();
    post(logic::board_message(&cfg.texts(), which, &rows), vec![])
}

impl Guest for PointsLevels {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "points-levels".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Points for messages, replies and reactions received, capped per hour; levels as tags; 7-day, 30-day and all-time boards.".into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::PostMessages,
                Capability::AwardPoints,
                Capability::Storage,
            ],
        }
    }
}

impl Game for PointsLevels {
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
        // Asking for the board earns nothing: it would be a free point farm.
        if let Some(which) = cfg.board(&message.text) {
            return board(&cfg, ctx.now, which);
        }
        let (points, reason) = match message.reply_to {
            Some(_) => (cfg.reply_points, "reply"),
            None => (cfg.message_points, "message"),
        };
        award(&cfg, ctx.now, &message.sender, points, reason)
    }

    fn on_reaction(ctx: Context, reaction: Reaction) -> Result<(), String> {
        if reaction.author == reaction.member {
            return Ok(());
        }
        // Plugin posts have no member behind them, and points to someone
        // who left would revive nothing.
        if !members::get(&reaction.author).is_some_and(|m| m.status == MemberStatus::Active) {
            return Ok(());
        }
        let cfg = host::config::<Config>()?.validate()?;
        award(
            &cfg,
            ctx.now,
            &reaction.author,
            cfg.reaction_received_points,
            "reaction received",
        )
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(PointsLevels);
