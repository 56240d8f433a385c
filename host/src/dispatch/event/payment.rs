//! Payments from the platform: money into the member's wallet, the
//! plugins' say, and refunds taken back out of the ledger. A payment id is
//! credited once; a refund must match a credited payment and cannot take
//! back more than it brought in.

use super::*;

/// The payment an event reports.
pub(super) fn payment_of(
    id: &str,
    member: &MemberId,
    amount: i64,
    currency: &str,
    status: PaymentStatus,
    purpose: &str,
) -> Payment {
    Payment {
        id: id.to_string(),
        member: member.clone(),
        amount,
        currency: currency.to_string(),
        status,
        purpose: purpose.to_string(),
    }
}

/// Refuses a payment the ledger cannot take: a payment id credited before,
/// a wallet past its ceiling, a refund without a matching payment or above
/// what remains of it.
async fn check_payment(b: &Batch, payment: &Payment, wallet: &str) -> Result<()> {
    let (id, amount) = (&payment.id, payment.amount);
    let recorded = b.store.payment_record(&b.group.id, id).await?;
    match payment.status {
        PaymentStatus::Succeeded => {
            if recorded.is_some() {
                return Err(ServiceError::Conflict(format!(
                    "payment {id:?} was already credited; a payment id counts once"
                )));
            }
            let held = b
                .store
                .balance(&b.group.id, wallet, Asset::Money)
                .await?
                .saturating_add(balance_delta(wallet, Asset::Money, &b.plain_effects()));
            credited(wallet, held, amount).map_err(ServiceError::Unprocessable)?;
        }
        PaymentStatus::Refunded => {
            let Some(p) = recorded.filter(|p| p.wallet == wallet) else {
                return Err(ServiceError::Unprocessable(format!(
                    "refund of payment {id:?}: no such payment by {:?} was recorded",
                    payment.member
                )));
            };
            let left = p.refundable();
            if amount > left {
                return Err(ServiceError::Unprocessable(format!(
                    "refund of {amount} for payment {id:?}: only {left} of its {} is left to refund",
                    p.amount
                )));
            }
        }
        PaymentStatus::Failed => {}
    }
    Ok(())
}

impl EventCtx<'_> {
    pub(super) async fn payment(&self, b: &mut Batch, payment: Payment) -> Result<()> {
        let (gid, member, amount) = (&b.group.id, &payment.member, payment.amount);
        if amount <= 0 {
            return Err(ServiceError::Invalid(format!(
                "payment amount must be positive, got {amount}"
            )));
        }
        check_amount(amount).map_err(ServiceError::Unprocessable)?;
        if b.store.get_member(gid, member).await?.is_none() {
            return Err(ServiceError::Unprocessable(format!(
                "no member {member:?} in group {gid:?}; send a join request first"
            )));
        }
        let payment_id = payment.id.clone();
        let status = payment.status;
        let wallet = format!("member:{member}");
        check_payment(b, &payment, &wallet).await?;
        if status == PaymentStatus::Succeeded {
            b.host(Effect::Transfer {
                id: payment_transfer_ids(&payment_id)[0].clone(),
                from: "external".into(),
                to: wallet.clone(),
                asset: Asset::Money,
                amount,
                memo: format!("payment {payment_id} {}", payment.purpose),
            });
        }
        self.run_plugins(b, &PluginEvent::Payment(payment), None)
            .await?;
        if status == PaymentStatus::Refunded {
            refund(b, &payment_id, &wallet, amount).await?;
        }
        Ok(())
    }
}

/// Returns refunded money: from the member's wallet, and what the wallet
/// lacks from the group's treasury (where an entry fee went).
async fn refund(b: &mut Batch, payment_id: &str, wallet: &str, amount: i64) -> Result<()> {
    let effects = b.plain_effects();
    let gid = &b.group.id;
    let held = |stored: i64, account: &str| {
        stored.saturating_add(balance_delta(account, Asset::Money, &effects))
    };
    let in_wallet = held(b.store.balance(gid, wallet, Asset::Money).await?, wallet);
    let in_group = held(b.store.balance(gid, "group", Asset::Money).await?, "group");
    let from_wallet = amount.min(in_wallet.max(0));
    let from_group = (amount - from_wallet).min(in_group.max(0));
    let [_, wallet_id, group_id] = payment_transfer_ids(payment_id);
    for (from, part, id) in [
        (wallet, from_wallet, wallet_id),
        ("group", from_group, group_id),
    ] {
        if part > 0 {
            b.host(Effect::Transfer {
                id,
                from: from.into(),
                to: "external".into(),
                asset: Asset::Money,
                amount: part,
                memo: format!("refund of payment {payment_id}"),
            });
        }
    }
    if from_wallet + from_group < amount {
        b.outcome.note = Some(format!(
            "refund of {amount}: only {} could be returned from the ledger",
            from_wallet + from_group
        ));
    }
    Ok(())
}
