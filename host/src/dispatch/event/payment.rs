//! Payments from the platform: money into the member's wallet, the
//! plugins' say, and refunds taken back out of the ledger.

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

impl EventCtx<'_> {
    pub(super) async fn payment(&self, b: &mut Batch, payment: Payment) -> Result<()> {
        let (gid, member, amount) = (&b.group.id, &payment.member, payment.amount);
        if amount <= 0 {
            return Err(ServiceError::Invalid(format!(
                "payment amount must be positive, got {amount}"
            )));
        }
        if b.store.get_member(gid, member).await?.is_none() {
            return Err(ServiceError::Unprocessable(format!(
                "no member {member:?} in group {gid:?}; send a join request first"
            )));
        }
        let payment_id = payment.id.clone();
        let status = payment.status;
        let wallet = format!("member:{member}");
        if status == PaymentStatus::Succeeded {
            b.host(Effect::Transfer {
                id: format!("{payment_id}:in"),
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
    let in_wallet = b.store.balance(gid, wallet, Asset::Money).await?
        + balance_delta(wallet, Asset::Money, &effects);
    let in_group = b.store.balance(gid, "group", Asset::Money).await?
        + balance_delta("group", Asset::Money, &effects);
    let from_wallet = amount.min(in_wallet.max(0));
    let from_group = (amount - from_wallet).min(in_group.max(0));
    for (from, part, tag) in [(wallet, from_wallet, "w"), ("group", from_group, "g")] {
        if part > 0 {
            b.host(Effect::Transfer {
                id: format!("{payment_id}:refund-{tag}"),
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
