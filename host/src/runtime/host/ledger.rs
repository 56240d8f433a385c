use super::*;
use crate::runtime::bindings::kith::plugin::ledger::{Asset as WitAsset, Entry, Host};

impl HostState {
    fn require_ledger(&mut self, asset: Asset) -> Result<(), WitError> {
        // Reading points balances is part of awarding them.
        if asset == Asset::Points && self.ctx.granted.contains(&Capability::AwardPoints) {
            return Ok(());
        }
        self.require(Capability::Ledger)
    }
}

impl Host for HostState {
    async fn balance(&mut self, account: String, asset: WitAsset) -> HostResult<i64> {
        let asset: Asset = asset.into();
        self.require_ledger(asset)
            .map_err(|e| wasmtime::Error::msg(e.message))?;
        Account::parse(&account).map_err(wasmtime::Error::msg)?;
        HostState::balance(self, &account, asset).await
    }

    async fn transfer(
        &mut self,
        from: String,
        to: String,
        asset: WitAsset,
        amount: i64,
        memo: String,
    ) -> HostResult<Result<String, WitError>> {
        if let Err(e) = self
            .require(Capability::Ledger)
            .and_then(|()| check_text("memo", &memo, MAX_TEXT))
        {
            return Ok(Err(e));
        }
        HostState::transfer(self, &from, &to, asset.into(), amount, memo).await
    }

    async fn history(
        &mut self,
        account: String,
        asset: WitAsset,
        limit: u32,
    ) -> HostResult<Vec<Entry>> {
        let asset: Asset = asset.into();
        self.require_ledger(asset)
            .map_err(|e| wasmtime::Error::msg(e.message))?;
        let entries = self
            .ctx
            .store
            .ledger_history(&self.ctx.group.id, &account, asset, limit.min(200))
            .await?;
        Ok(entries
            .into_iter()
            .map(|e| Entry {
                transfer_id: e.transfer_id,
                account: e.account,
                asset: e.asset.into(),
                amount: e.amount,
                memo: e.memo,
                at: e.at,
            })
            .collect())
    }
}

impl HostState {
    /// `ledger.request-refund` (0.2.0): checks the payment and the amount,
    /// then buffers the outbox request. What is left of a payment counts
    /// the refunds the adapter reported and those this event asked for.
    pub(super) async fn request_refund(
        &mut self,
        payment_id: String,
        amount: i64,
        reason: String,
    ) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self
            .require(Capability::Ledger)
            .and_then(|()| check_text("payment id", &payment_id, MAX_KEY))
            .and_then(|()| check_text("reason", &reason, MAX_TEXT))
        {
            return Ok(Err(e));
        }
        if amount <= 0 {
            let why = format!("a refund must be positive, got {amount}");
            return Ok(Err(err(ErrorCode::Invalid, why)));
        }
        let record = self
            .ctx
            .store
            .payment_record(&self.ctx.group.id, &payment_id)
            .await?;
        let Some(paid) = record else {
            let why = format!("no payment {payment_id:?} was credited in this group");
            return Ok(Err(err(ErrorCode::NotFound, why)));
        };
        let asked: i64 = self
            .effects
            .iter()
            .map(|e| match e {
                Effect::RequestRefund {
                    payment_id: p,
                    amount,
                    ..
                } if *p == payment_id => *amount,
                _ => 0,
            })
            .sum();
        let left = paid.refundable().saturating_sub(asked);
        if amount > left {
            let why = format!("refund of {amount}: only {left} of payment {payment_id:?} is left");
            return Ok(Err(err(ErrorCode::Invalid, why)));
        }
        let member = paid.wallet.trim_start_matches("member:").to_string();
        Ok(self.push(Effect::RequestRefund {
            payment_id,
            member,
            amount,
            reason,
        }))
    }
}
