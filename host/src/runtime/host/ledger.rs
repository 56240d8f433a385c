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
