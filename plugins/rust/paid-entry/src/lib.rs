//! `paid-entry`: admits applicants on a confirmed payment of at least the
//! price, ends their membership when the paid period is over, and takes it
//! back when the payment is refunded.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "entry-gate" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::gate::Guest as Gate;
use kith::plugin::ledger::{self, Asset};
use kith::plugin::types::{
    Capability, Context, Decision, ErrorCode, JoinRequest, Member, MemberStatus, Message, Payment,
    PaymentStatus, PluginKind, Role, TimerFired,
};
use kith::plugin::{groups, members, messages, storage, timers};
use logic::{Config, OnExpiry, PaymentCheck};

struct PaidEntry;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

fn direct(member: &str, text: &str) -> Result<(), String> {
    messages::direct(member, text).map_err(|e| host::err("messages.direct", e))
}

/// Plugins may not act on owners and admins; their paid state is still
/// kept in step, but removal is left to the operator.
fn privileged(m: &Member) -> bool {
    matches!(m.role, Role::Owner | Role::Admin)
}

/// A paid period the member still holds (e.g. they left and came back).
fn still_paid(m: &Member, now: i64) -> bool {
    m.paid_tier.is_some() && m.paid_until.is_none_or(|u| u > now)
}

fn clear_paid(m: &Member) -> Result<(), String> {
    members::set_paid(&m.id, None, None).map_err(|e| host::err("members.set-paid", e))?;
    let key = logic::payment_key(&m.id);
    storage::delete(&key).map_err(|e| host::err(&format!("storage.delete `{key}`"), e))
}

fn succeeded(ctx: &Context, cfg: &Config, payment: &Payment) -> Result<(), String> {
    let id = &payment.member;
    match logic::check_payment(cfg, &payment.purpose, &payment.currency, payment.amount) {
        PaymentCheck::Ignore => return Ok(()),
        // The money stays in the member's wallet, where a refund finds it.
        PaymentCheck::WrongCurrency => {
            return direct(id, &logic::wrong_currency_message(&payment.currency, cfg))
        }
        PaymentCheck::BelowPrice => {
            return direct(id, &logic::below_price_message(payment.amount, cfg))
        }
        PaymentCheck::Accept => {}
    }
    let Some(m) = members::get(id) else {
        return Ok(());
    };
    let pending = match m.status {
        MemberStatus::Pending => true,
        MemberStatus::Active => false,
        _ => {
            host::warn(&format!(
                "payment {} from {id}, who is neither pending nor active: left in their wallet",
                payment.id
            ));
            return Ok(());
        }
    };
    let renewed = !pending && m.paid_tier.is_some();
    let current_until = if m.paid_tier.is_some() {
        m.paid_until
    } else {
        None
    };
    let until = logic::paid_until(cfg, ctx.now, current_until);
    // Only the price moves: an overpayment stays in the wallet.
    ledger::transfer(
        &format!("member:{id}"),
        "group",
        Asset::Money,
        cfg.price,
        &format!("entry fee, payment {}", payment.id),
    )
    .map_err(|e| host::err("ledger.transfer", e))?;
    members::set_paid(id, Some(&cfg.tier), until).map_err(|e| host::err("members.set-paid", e))?;
    if m.tags.iter().any(|t| t == logic::EXPIRED_TAG) {
        members::remove_tag(id, logic::EXPIRED_TAG)
            .map_err(|e| host::err("members.remove-tag", e))?;
    }
    // Denied: another gate (a quiz) still holds the request. The payment
    // counts: this gate admits the member (already paid) when its turn comes.
    let waiting = pending
        && match members::approve(id, logic::APPROVE_REASON) {
            Ok(()) => false,
            Err(e) if e.code == ErrorCode::Denied => true,
            Err(e) => return Err(host::err("members.approve", e)),
        };
    let timer = logic::timer_name(id);
    match until {
        Some(at) => timers::set_once(&timer, at, id),
        None => timers::cancel(&timer),
    }
    .map_err(|e| host::err("timers", e))?;
    host::save(&logic::payment_key(id), &payment.id)?;
    if waiting {
        return direct(id, &cfg.texts().render("paid_waiting", &[]));
    }
    direct(
        id,
        &logic::welcome_message(cfg, &host::clock(), until, renewed),
    )
}

fn refunded(payment: &Payment) -> Result<(), String> {
    if payment.purpose != logic::PURPOSE {
        return Ok(());
    }
    let id = &payment.member;
    // Refunding an underpayment (or an older period's payment) takes back
    // money that bought nothing current: the membership stands.
    let bought: Option<String> = host::load(&logic::payment_key(id))?;
    if bought.as_deref() != Some(payment.id.as_str()) {
        return Ok(());
    }
    timers::cancel(&logic::timer_name(id)).map_err(|e| host::err("timers.cancel", e))?;
    let Some(m) = members::get(id) else {
        return Ok(());
    };
    if !matches!(m.status, MemberStatus::Active | MemberStatus::Pending) {
        let key = logic::payment_key(id);
        return storage::delete(&key).map_err(|e| host::err(&format!("storage.delete `{key}`"), e));
    }
    // Before the removal: set-paid only applies to pending or active members.
    clear_paid(&m)?;
    if m.status == MemberStatus::Active && !privileged(&m) {
        members::remove(id, logic::REFUND_REASON).map_err(|e| host::err("members.remove", e))?;
    }
    Ok(())
}

impl Guest for PaidEntry {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "paid-entry".into(),
            version: "0.1.0".into(),
            kind: PluginKind::EntryGate,
            description: "Admits applicants who pay at least the price; the paid period \
                          expires into removal or a downgrade, and a refund ends it."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::DirectMessages,
                Capability::Ledger,
                Capability::Timers,
                Capability::Storage,
            ],
        }
    }
}

impl Gate for PaidEntry {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        config().map(drop)
    }

    fn on_join_request(ctx: Context, request: JoinRequest) -> Result<Decision, String> {
        let cfg = config()?;
        if members::get(&request.member).is_some_and(|m| still_paid(&m, ctx.now)) {
            return Ok(Decision::Admit(cfg.texts().render("already_paid", &[])));
        }
        direct(
            &request.member,
            &logic::price_message(&cfg, &groups::current().name),
        )?;
        Ok(Decision::Pending(logic::pending_reason(&cfg)))
    }

    /// Only a payment decides; an answer changes nothing.
    fn on_challenge_answer(
        _ctx: Context,
        _request: JoinRequest,
        _answer: String,
    ) -> Result<Decision, String> {
        Ok(Decision::Pending(logic::pending_reason(&config()?)))
    }

    fn on_message(_ctx: Context, _message: Message) -> Result<(), String> {
        Ok(())
    }

    fn on_payment(ctx: Context, payment: Payment) -> Result<(), String> {
        match payment.status {
            PaymentStatus::Succeeded => succeeded(&ctx, &config()?, &payment),
            PaymentStatus::Refunded => refunded(&payment),
            PaymentStatus::Failed => Ok(()),
        }
    }

    fn on_timer(ctx: Context, timer: TimerFired) -> Result<(), String> {
        let Some(id) = timer.name.strip_prefix(logic::TIMER_PREFIX) else {
            return Ok(());
        };
        let Some(m) = members::get(id) else {
            return Ok(());
        };
        if m.status != MemberStatus::Active || !logic::is_expired(m.paid_until, ctx.now) {
            return Ok(());
        }
        let cfg = config()?;
        // Sent first: a removed member can no longer be messaged.
        direct(id, &logic::expired_message(&cfg))?;
        clear_paid(&m)?;
        match cfg.on_expiry {
            OnExpiry::Remove if privileged(&m) => {
                host::warn(&format!(
                    "{id}'s paid period ended, but plugins cannot remove a {}",
                    host::role_name(m.role)
                ));
                Ok(())
            }
            OnExpiry::Remove => members::remove(id, logic::EXPIRY_REASON)
                .map_err(|e| host::err("members.remove", e)),
            OnExpiry::Downgrade => match members::add_tag(id, logic::EXPIRED_TAG) {
                Err(e) if e.code == ErrorCode::Conflict => Ok(()),
                r => r.map_err(|e| host::err("members.add-tag", e)),
            },
        }
    }
}

export!(PaidEntry);
