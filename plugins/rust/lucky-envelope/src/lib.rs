//! `lucky-envelope` (拼手气红包): a member puts money from their wallet into
//! an envelope; the first N members to react grab random shares of it.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "activity-game" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::game::Guest as Game;
use kith::plugin::ledger::{self, Asset};
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::timers;
use kith::plugin::types::{
    self, Capability, Context, ErrorCode, Member, Message, PluginKind, Reaction, TimerFired,
};
use logic::{Command, Config, Envelope};

struct LuckyEnvelope;

fn wallet(member: &str) -> String {
    format!("member:{member}")
}

fn escrow(id: &str) -> String {
    format!("escrow:env-{id}")
}

fn envelope_key(id: &str) -> String {
    format!("{}{id}", logic::ENVELOPE_PREFIX)
}

/// Messages only tell what the ledger already did: over the message quota
/// (a 100-share envelope grabbed within a minute) one is dropped, never the
/// grab or the refund with it.
fn quota_tolerant<T>(call: &str, result: Result<T, types::Error>) -> Result<Option<T>, String> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == ErrorCode::QuotaExceeded => {
            host::warn(&format!("{call}: {}; message dropped", e.message));
            Ok(None)
        }
        Err(e) => Err(host::err(call, e)),
    }
}

fn direct(member: &str, text: &str) -> Result<(), String> {
    quota_tolerant("messages.direct", messages::direct(member, text)).map(drop)
}

/// A complaint to a member about their own command, at most one a minute
/// each: repeating a command one cannot pay for must not use up the
/// plugin's message quota.
fn complain(now: i64, member: &str, text: &str) -> Result<(), String> {
    let key = format!("{}{member}", logic::COMPLAINED_PREFIX);
    if host::load::<i64>(&key)?.is_some_and(|at| now - at < 60_000) {
        return Ok(());
    }
    host::save(&key, &now)?;
    direct(member, text)
}

/// The posted message's id; None when the quota dropped it.
fn post(
    text: String,
    mentions: Vec<String>,
    reply_to: Option<String>,
) -> Result<Option<String>, String> {
    let outgoing = Outgoing {
        text,
        mentions,
        reply_to,
    };
    quota_tolerant("messages.post", messages::post(&outgoing))
}

fn send(
    ctx: &Context,
    cfg: &Config,
    message: &Message,
    amount: i64,
    count: u32,
) -> Result<(), String> {
    let sender = &message.sender;
    let key = envelope_key(&message.id);
    // The host refuses a reused message id, but an old envelope must never
    // be overwritten with its escrow still holding money.
    if host::exists(&key) {
        return Ok(());
    }
    let balance = ledger::balance(&wallet(sender), Asset::Money);
    if balance < amount {
        return complain(
            ctx.now,
            sender,
            &logic::insufficient_message(&cfg.texts(), amount, balance),
        );
    }
    ledger::transfer(
        &wallet(sender),
        &escrow(&message.id),
        Asset::Money,
        amount,
        &format!("lucky envelope {} ({count} shares)", message.id),
    )
    .map_err(|e| host::err("ledger.transfer", e))?;
    host::save(&key, &Envelope::new(sender, amount, count, ctx.seed))?;
    let name = host::member_name(sender);
    let posted = post(
        logic::announcement(&cfg.texts(), &name, count, &cfg.grab_emoji),
        vec![],
        Some(message.id.clone()),
    )?;
    // Without the announcement, members grab by replying to the command.
    if let Some(posted) = posted {
        host::save(&format!("{}{posted}", logic::POST_PREFIX), &message.id)?;
    }
    let at = ctx.now + i64::from(cfg.expire_hours) * logic::HOUR_MS;
    timers::set_once(
        &format!("{}{}", logic::EXPIRE_PREFIX, message.id),
        at,
        &message.id,
    )
    .map_err(|e| host::err("timers.set-once", e))
}

/// The envelope a message id stands for: the command itself or the
/// announcement posted for it.
fn resolve(message_id: &str) -> Result<Option<(String, Envelope)>, String> {
    let id = match host::load::<String>(&format!("{}{message_id}", logic::POST_PREFIX))? {
        Some(id) => id,
        None => message_id.to_string(),
    };
    Ok(host::load::<Envelope>(&envelope_key(&id))?.map(|env| (id, env)))
}

fn grab(message_id: &str, member: &str) -> Result<(), String> {
    let cfg = host::config::<Config>()?;
    let Some((id, mut env)) = resolve(message_id)? else {
        return Ok(());
    };
    // Late, repeated or second grabs are simply ignored: a DM for each
    // would spam the members who were too slow.
    let Some(amount) = env.grab(member) else {
        return Ok(());
    };
    ledger::transfer(
        &escrow(&id),
        &wallet(member),
        Asset::Money,
        amount,
        &format!("lucky envelope {id} share {}", env.draws.len()),
    )
    .map_err(|e| host::err("ledger.transfer", e))?;
    host::save(&envelope_key(&id), &env)?;
    let sender_name = host::member_name(&env.sender);
    if env.draws.len() <= logic::GRAB_DMS {
        direct(
            member,
            &logic::grabbed_dm(&cfg.texts(), amount, &sender_name),
        )?;
    }
    if env.remaining_count == 0 {
        timers::cancel(&format!("{}{id}", logic::EXPIRE_PREFIX))
            .map_err(|e| host::err("timers.cancel", e))?;
        let names: Vec<String> = env.openers.iter().map(|o| host::member_name(o)).collect();
        let mentions = env
            .luckiest()
            .map(|i| env.openers[i].clone())
            .into_iter()
            .collect();
        post(
            logic::results(&cfg.texts(), &env, &sender_name, &names),
            mentions,
            Some(id),
        )?;
    }
    Ok(())
}

fn expire(id: &str) -> Result<(), String> {
    let cfg = host::config::<Config>()?;
    let key = envelope_key(id);
    let Some(mut env) = host::load::<Envelope>(&key)? else {
        return Ok(());
    };
    if !env.is_open() {
        return Ok(());
    }
    let returned = env.remaining_amount;
    if returned > 0 {
        ledger::transfer(
            &escrow(id),
            &wallet(&env.sender),
            Asset::Money,
            returned,
            &format!("lucky envelope {id} expired"),
        )
        .map_err(|e| host::err("ledger.transfer", e))?;
    }
    env.expired = true;
    env.remaining_amount = 0;
    host::save(&key, &env)?;
    post(
        logic::expired_message(&cfg.texts(), &host::member_name(&env.sender), returned),
        vec![env.sender.clone()],
        Some(id.to_string()),
    )
    .map(drop)
}

impl Guest for LuckyEnvelope {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "lucky-envelope".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ActivityGame,
            description: "Lucky red envelopes (拼手气红包): a sum split at random among the first N members to grab.".into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::PostMessages,
                Capability::DirectMessages,
                Capability::Ledger,
                Capability::Storage,
                Capability::Timers,
            ],
        }
    }
}

impl Game for LuckyEnvelope {
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
        if let Some(target) = &message.reply_to {
            if cfg.is_grab_command(&message.text) {
                return grab(target, &message.sender);
            }
        }
        match logic::parse_command(&message.text, &cfg) {
            Command::NotOurs => Ok(()),
            Command::Invalid(usage) => complain(ctx.now, &message.sender, &usage),
            Command::Send { amount, count } => send(&ctx, &cfg, &message, amount, count),
        }
    }

    fn on_reaction(_ctx: Context, reaction: Reaction) -> Result<(), String> {
        let cfg = host::config::<Config>()?.validate()?;
        if reaction.emoji.trim() != cfg.grab_emoji.trim() {
            return Ok(());
        }
        grab(&reaction.message_id, &reaction.member)
    }

    fn on_timer(_ctx: Context, timer: TimerFired) -> Result<(), String> {
        match timer.name.strip_prefix(logic::EXPIRE_PREFIX) {
            Some(id) => expire(id),
            None => Ok(()),
        }
    }
}

export!(LuckyEnvelope);
