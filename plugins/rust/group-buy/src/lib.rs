//! `group-buy` (一元拼团): an owner or admin opens a deal; members pay into
//! escrow; when enough have paid before the deadline the money goes to the
//! group's treasury, otherwise everyone is refunded.

mod logic;

// kith:plugin@0.2.0: one `handle` export (only enabled, message, payment
// and timer are of use) and `ledger.request-refund` for real refunds.
wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::handler::{Event, Guest as Handler, Reply};
use kith::plugin::ledger::{self, Asset};
use kith::plugin::messages::{self, Outgoing};
use kith::plugin::types::{
    Capability, Context, ErrorCode, Message, Payment, PaymentStatus, PluginKind, Role, TimerFired,
};
use kith::plugin::{members, timers};
use logic::{Config, Deal, Join, Status};

struct GroupBuy;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

fn post(text: String, mentions: Vec<String>) -> Result<(), String> {
    messages::post(&Outgoing {
        text,
        mentions,
        reply_to: None,
    })
    .map(drop)
    .map_err(|e| host::err("messages.post", e))
}

fn transfer(from: &str, to: &str, amount: i64, memo: &str) -> Result<(), String> {
    ledger::transfer(from, to, Asset::Money, amount, memo)
        .map(drop)
        .map_err(|e| host::err(&format!("ledger.transfer {from} -> {to}"), e))
}

fn wallet(member: &str) -> String {
    format!("member:{member}")
}

fn open_deal(ctx: &Context, message: &Message, cfg: &Config) -> Result<(), String> {
    let Some(name) = logic::parse_open(&message.text, &cfg.command) else {
        return Ok(());
    };
    let Some(sender) = members::get(&message.sender) else {
        return Ok(());
    };
    if !matches!(sender.role, Role::Owner | Role::Admin) {
        return messages::direct(&sender.id, &cfg.texts().render("not_allowed", &[]))
            .map_err(|e| host::err("messages.direct", e));
    }
    // The message id is unique in the group, so it names the deal.
    let deal = logic::open(&message.id, name, ctx.now, cfg);
    host::save(&logic::deal_key(&deal.id), &deal)?;
    timers::set_once(&logic::timer_name(&deal.id), deal.deadline, &deal.id)
        .map_err(|e| host::err("timers.set-once", e))?;
    post(
        logic::announcement(&cfg.texts(), &host::clock(), &deal, cfg.duration_hours),
        vec![],
    )
}

fn pay(ctx: &Context, payment: &Payment, deal_id: &str) -> Result<(), String> {
    let cfg = host::config::<Config>()?;
    let key = logic::deal_key(deal_id);
    let Some(mut deal) = host::load::<Deal>(&key)? else {
        host::warn(&format!(
            "payment {} for unknown deal {deal_id:?}: left in the wallet",
            payment.id
        ));
        return Ok(());
    };
    let filled = match logic::join(&deal, &payment.member, payment.amount, ctx.now) {
        Join::Ignore(why) => {
            host::warn(&format!(
                "payment {}: {why}; the money stays in the wallet",
                payment.id
            ));
            return Ok(());
        }
        Join::Buy { filled } => filled,
    };
    let memo = format!("group buy {}", deal.name);
    transfer(
        &wallet(&payment.member),
        &logic::escrow(&deal.id),
        deal.price,
        &memo,
    )?;
    deal.buyers.push(payment.member.clone());
    deal.payments
        .push((payment.member.clone(), payment.id.clone()));
    if filled {
        let total = deal.price * deal.buyers.len() as i64;
        transfer(&logic::escrow(&deal.id), "group", total, &memo)?;
        for buyer in &deal.buyers {
            match members::add_tag(buyer, &config()?.bought_tag) {
                // A buyer who left before the deal filled still bought; they
                // just cannot be tagged any more.
                Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::NotFound) => {
                    host::warn(&host::err("members.add-tag", e))
                }
                r => r.map_err(|e| host::err("members.add-tag", e))?,
            }
        }
        timers::cancel(&logic::timer_name(&deal.id)).map_err(|e| host::err("timers.cancel", e))?;
        deal.status = Status::Succeeded;
        host::save(&key, &deal)?;
        post(
            logic::success_message(&cfg.texts(), &deal),
            deal.buyers.clone(),
        )
    } else {
        host::save(&key, &deal)?;
        post(
            logic::joined_message(&cfg.texts(), &deal),
            vec![payment.member.clone()],
        )
    }
}

/// A refunded payment of a buyer in an open deal takes them out of it, and
/// their share goes back to the wallet the host debits for the refund.
fn refunded(payment: &Payment, deal_id: &str) -> Result<(), String> {
    let key = logic::deal_key(deal_id);
    let Some(mut deal) = host::load::<Deal>(&key)? else {
        return Ok(());
    };
    if deal.status != Status::Open || !deal.buyers.contains(&payment.member) {
        return Ok(());
    }
    transfer(
        &logic::escrow(&deal.id),
        &wallet(&payment.member),
        deal.price,
        &format!("group buy {}: payment refunded", deal.name),
    )?;
    deal.buyers.retain(|b| b != &payment.member);
    deal.payments.retain(|(b, _)| b != &payment.member);
    host::save(&key, &deal)
}

fn deadline(deal_id: &str) -> Result<(), String> {
    let cfg = host::config::<Config>()?;
    let key = logic::deal_key(deal_id);
    let Some(mut deal) = host::load::<Deal>(&key)? else {
        return Ok(());
    };
    if deal.status != Status::Open {
        return Ok(());
    }
    // Each share goes back to the buyer's wallet, and the adapter is asked
    // to refund the real payment; the host takes the money out of the
    // wallet when the adapter reports the refund.
    let memo = format!("group buy {} failed: refund", deal.name);
    for buyer in &deal.buyers {
        transfer(&logic::escrow(&deal.id), &wallet(buyer), deal.price, &memo)?;
    }
    for (_, payment_id) in &deal.payments {
        ledger::request_refund(payment_id, deal.price, &memo)
            .map_err(|e| host::err("ledger.request-refund", e))?;
    }
    deal.status = Status::Failed;
    host::save(&key, &deal)?;
    post(
        logic::failed_message(&cfg.texts(), &deal),
        deal.buyers.clone(),
    )
}

impl Guest for GroupBuy {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "group-buy".into(),
            version: "0.2.0".into(),
            kind: PluginKind::ConversionFlow,
            description: "Group buy (一元拼团): a deal with a price, a head count and a deadline; \
                          payments held in escrow go to the group when it fills, and are \
                          refunded when it expires."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::PostMessages,
                Capability::DirectMessages,
                Capability::Ledger,
                Capability::Timers,
                Capability::Storage,
            ],
        }
    }
}

impl Handler for GroupBuy {
    fn handle(ctx: Context, event: Event) -> Result<Reply, String> {
        match event {
            Event::Enabled => config().map(drop)?,
            Event::Message(message) => open_deal(&ctx, &message, &config()?)?,
            Event::Payment(payment) => on_payment(&ctx, &payment)?,
            Event::Timer(timer) => on_timer(&timer)?,
            _ => {}
        }
        Ok(Reply::Done)
    }
}

fn on_payment(ctx: &Context, payment: &Payment) -> Result<(), String> {
    let Some(deal_id) = payment.purpose.strip_prefix(logic::PURPOSE_PREFIX) else {
        return Ok(());
    };
    match payment.status {
        PaymentStatus::Succeeded => pay(ctx, payment, deal_id),
        PaymentStatus::Refunded => refunded(payment, deal_id),
        PaymentStatus::Failed => Ok(()),
    }
}

fn on_timer(timer: &TimerFired) -> Result<(), String> {
    match timer.name.strip_prefix(logic::TIMER_PREFIX) {
        Some(deal_id) => deadline(deal_id),
        None => Ok(()),
    }
}

export!(GroupBuy);
