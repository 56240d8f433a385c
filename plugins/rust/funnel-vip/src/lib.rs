//! `funnel-vip`: moves members through the funnel with `stage:*` tags
//! (newcomer, lurker, participant, core, vip), makes payers VIPs and
//! reminds them to buy again.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "conversion-flow" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::flow::Guest as Flow;
use kith::plugin::members::MemberFilter;
use kith::plugin::types::{
    Capability, Context, Member, MemberStatus, Message, Payment, PaymentStatus, PluginKind,
    Reaction, Role, TimerFired,
};
use kith::plugin::{groups, members, messages, timers};
use logic::{Config, Counts, Stage};

struct FunnelVip;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

/// Owners and admins run the funnel; they are not in it.
fn in_funnel(m: &Member) -> bool {
    m.status == MemberStatus::Active && !matches!(m.role, Role::Owner | Role::Admin)
}

fn add_tag(member: &str, tag: &str) -> Result<(), String> {
    members::add_tag(member, tag).map_err(|e| host::err("members.add-tag", e))
}

/// Exactly one stage tag at a time, so operators can filter by it.
fn set_stage(m: &Member, stage: Stage) -> Result<(), String> {
    let wanted = stage.tag();
    for old in m
        .tags
        .iter()
        .filter(|t| t.starts_with(logic::STAGE_PREFIX) && **t != wanted)
    {
        members::remove_tag(&m.id, old).map_err(|e| host::err("members.remove-tag", e))?;
    }
    if !m.tags.contains(&wanted) {
        add_tag(&m.id, &wanted)?;
    }
    Ok(())
}

fn purchase(ctx: &Context, payment: &Payment, cfg: &Config) -> Result<(), String> {
    let Some(m) = members::get(&payment.member) else {
        return Ok(());
    };
    if m.status != MemberStatus::Active {
        return Ok(());
    }
    let mut tags = vec!["bought", cfg.vip_tag.as_str()];
    if payment.amount >= cfg.big_customer_amount {
        tags.push("big-customer");
    }
    for tag in tags {
        if !m.tags.iter().any(|t| t == tag) {
            add_tag(&m.id, tag)?;
        }
    }
    if in_funnel(&m) {
        set_stage(&m, Stage::Vip)?;
        if m.role != Role::Vip {
            members::set_role(&m.id, Role::Vip).map_err(|e| host::err("members.set-role", e))?;
        }
    }
    host::save(&logic::purchase_key(&m.id), &ctx.now)?;
    // Setting the timer again replaces it: only the latest purchase reminds.
    let at = ctx.now + i64::from(cfg.repurchase_days) * logic::DAY_MS;
    timers::set_once(&logic::repurchase_timer(&m.id), at, &ctx.now.to_string())
        .map_err(|e| host::err("timers.set-once", e))
}

fn remind(member: &str, payload: &str, cfg: &Config) -> Result<(), String> {
    let last: Option<i64> = host::load(&logic::purchase_key(member))?;
    if last.map(|t| t.to_string()).as_deref() != Some(payload) {
        return Ok(());
    }
    match members::get(member) {
        Some(m) if m.status == MemberStatus::Active => {
            let name = kith_plugin_util::display_name(Some(&m.display_name), &m.id);
            messages::direct(&m.id, &logic::reminder(cfg, name))
                .map_err(|e| host::err("messages.direct", e))
        }
        _ => Ok(()),
    }
}

fn lurker_scan(ctx: &Context, cfg: &Config) -> Result<(), String> {
    let silent = members::find(&MemberFilter {
        role: None,
        tag: None,
        status: Some(MemberStatus::Active),
        inactive_since: Some(ctx.now - i64::from(cfg.lurker_days) * logic::DAY_MS),
        limit: 0,
    });
    for m in silent.iter().filter(|m| in_funnel(m)) {
        if logic::demote_to_lurker(Stage::of(&m.tags)) {
            set_stage(m, Stage::Lurker)?;
        }
    }
    Ok(())
}

impl Guest for FunnelVip {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "funnel-vip".into(),
            version: "0.1.0".into(),
            kind: PluginKind::ConversionFlow,
            description: "Funnel stages from newcomer to lurker, participant, core and paying \
                          VIP as tags; VIP upgrade on payment; repurchase reminders."
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

impl Flow for FunnelVip {
    fn on_enabled(ctx: Context) -> Result<(), String> {
        let cfg = config()?;
        let first =
            logic::next_local_hour(ctx.now, groups::current().utc_offset_minutes, cfg.scan_hour);
        timers::set_recurring(logic::SCAN, first, logic::DAY_MS as u64, "")
            .map_err(|e| host::err("timers.set-recurring", e))
    }

    fn on_member_joined(_ctx: Context, member: Member) -> Result<(), String> {
        if !in_funnel(&member) {
            return Ok(());
        }
        // A member coming back keeps what they reached before (e.g. VIP).
        if Stage::of(&member.tags).is_none() {
            set_stage(&member, Stage::Newcomer)?;
        }
        Ok(())
    }

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(ctx: Context, message: Message) -> Result<(), String> {
        let Some(m) = members::get(&message.sender) else {
            return Ok(());
        };
        if !in_funnel(&m) {
            return Ok(());
        }
        let cfg = config()?;
        let today = logic::day_index(ctx.now, groups::current().utc_offset_minutes);
        let key = logic::counts_key(&m.id);
        let counts =
            logic::count_message(host::load::<Counts>(&key)?.unwrap_or_default(), today, &cfg);
        host::save(&key, &counts)?;
        let current = Stage::of(&m.tags);
        let next = logic::after_message(current, &counts, today, &cfg);
        if current != Some(next) {
            set_stage(&m, next)?;
        }
        Ok(())
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_payment(ctx: Context, payment: Payment) -> Result<(), String> {
        let cfg = config()?;
        if payment.status != PaymentStatus::Succeeded || !cfg.counts_as_purchase(&payment.purpose) {
            return Ok(());
        }
        purchase(&ctx, &payment, &cfg)
    }

    fn on_timer(ctx: Context, timer: TimerFired) -> Result<(), String> {
        let cfg = config()?;
        if timer.name == logic::SCAN {
            return lurker_scan(&ctx, &cfg);
        }
        match timer.name.strip_prefix(logic::REPURCHASE_PREFIX) {
            Some(member) => remind(member, &timer.payload, &cfg),
            None => Ok(()),
        }
    }
}

export!(FunnelVip);
