//! The ledger: balances, history and transfers.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

/// An account's balance: the same query inside and outside a transaction.
const BALANCE_SQL: &str = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries \
     WHERE group_id = $1 AND account = $2 AND asset = $3";

/// What the ledger holds of one payment: the wallet it credited, the
/// amount, and how much of it refunds have taken back out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The account credited (`member:<id>`).
    pub wallet: String,
    /// The amount paid.
    pub amount: i64,
    /// How much refunds have taken back so far.
    pub refunded: i64,
}

impl Paid {
    /// What is left to refund.
    pub fn refundable(&self) -> i64 {
        self.amount - self.refunded
    }
}

/// One transfer: `amount` of `asset` from one account to another, both
/// sides written by `Tx::transfer`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transfer<'a> {
    /// The group whose ledger it is; accounts are scoped to it.
    pub group: &'a str,
    /// The transfer's id, the same on both of its entries.
    pub id: &'a str,
    /// The account debited; it must not go below zero unless it is `issuer` or `external`.
    pub from: &'a Account,
    /// The account credited.
    pub to: &'a Account,
    /// Points or money.
    pub asset: Asset,
    /// Positive: what `from` pays and `to` receives.
    pub amount: i64,
    /// Free text recorded on both entries.
    pub memo: &'a str,
    /// The plugin that made it; `None`: the host.
    pub plugin: Option<&'a str>,
    /// When it happened, Unix epoch milliseconds.
    pub at: Millis,
}

pub(super) fn ledger_entry_from_row(row: &AnyRow) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        transfer_id: row.try_get("transfer_id")?,
        account: row.try_get("account")?,
        asset: parse(&row.try_get::<String, _>("asset")?)?,
        amount: row.try_get("amount")?,
        memo: row.try_get("memo")?,
        at: row.try_get("at")?,
    })
}

impl Store {
    /// An account's balance of an asset.
    pub async fn balance(&self, group: &str, account: &str, asset: Asset) -> Result<i64> {
        Ok(sqlx::query_scalar(BALANCE_SQL)
            .bind(group)
            .bind(account)
            .bind(asset.as_str())
            .fetch_one(&self.pool)
            .await?)
    }

    /// Sum of every balance of an asset in a group: zero unless value was created or lost.
    pub async fn ledger_sum(&self, group: &str, asset: Asset) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE group_id = $1 AND asset = $2",
        )
        .bind(group)
        .bind(asset.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every account's balance of every asset in a group, by account then
    /// asset: what the conformance suite audits and compares.
    pub async fn balances(&self, group: &str) -> Result<Vec<(String, Asset, i64)>> {
        let rows = sqlx::query(
            "SELECT account, asset, CAST(SUM(amount) AS BIGINT) AS balance FROM ledger_entries \
             WHERE group_id = $1 GROUP BY account, asset ORDER BY account, asset",
        )
        .bind(group)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("account")?,
                    parse(&row.try_get::<String, _>("asset")?)?,
                    row.try_get("balance")?,
                ))
            })
            .collect()
    }

    /// What the ledger holds of one payment (see `payment_transfer_ids`),
    /// if it was credited.
    pub async fn payment_record(&self, group: &str, payment_id: &str) -> Result<Option<Paid>> {
        let ids = payment_transfer_ids(payment_id);
        let sql = "SELECT transfer_id, account, amount FROM ledger_entries \
             WHERE group_id = $1 AND transfer_id IN ($2, $3, $4) ORDER BY id";
        let entries: Vec<(String, String, i64)> = sqlx::query_as(sql)
            .bind(group)
            .bind(&ids[0])
            .bind(&ids[1])
            .bind(&ids[2])
            .fetch_all(&self.pool)
            .await?;
        let mut found: Option<Paid> = None;
        for (transfer, account, amount) in entries {
            if transfer == ids[0] && account != "external" {
                found = Some(Paid {
                    wallet: account,
                    amount,
                    refunded: 0,
                });
            } else if transfer != ids[0] && account == "external" {
                if let Some(p) = found.as_mut() {
                    p.refunded = p.refunded.saturating_add(amount);
                }
            }
        }
        Ok(found)
    }

    /// An account's entries of an asset, newest first.
    pub async fn ledger_history(
        &self,
        group: &str,
        account: &str,
        asset: Asset,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>> {
        let sql = format!(
            "SELECT transfer_id, account, asset, amount, memo, at FROM ledger_entries \
             WHERE group_id = $1 AND account = $2 AND asset = $3 ORDER BY id DESC LIMIT {}",
            limit.min(MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(account)
            .bind(asset.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ledger_entry_from_row).collect()
    }
}

impl Tx<'_> {
    /// An account's balance, as this transaction sees it.
    pub async fn balance(&mut self, group: &str, account: &str, asset: Asset) -> Result<i64> {
        Ok(sqlx::query_scalar(BALANCE_SQL)
            .bind(group)
            .bind(account)
            .bind(asset.as_str())
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Writes both sides of a transfer, refusing one that would overdraw
    /// `from` or carry `to` past the balance ceiling.
    pub async fn transfer(&mut self, t: Transfer<'_>) -> Result<()> {
        // The balances read below must stay true until the commit, whatever
        // other processes do: a no-op in an event's commit, which holds it.
        self.lock_group(t.group).await?;
        let (from, amount, asset) = (t.from, t.amount, t.asset);
        if amount <= 0 {
            return Err(StoreError::Rejected(format!(
                "transfer amount must be positive, got {amount}"
            )));
        }
        check_amount(amount).map_err(StoreError::Limit)?;
        // Sources (issuer, external) are not bounded: their balance is the
        // negated sum of bounded ones.
        if !t.to.may_go_negative() {
            let to = t.to.to_string();
            let balance = self.balance(t.group, &to, asset).await?;
            credited(&to, balance, amount).map_err(StoreError::Limit)?;
        }
        if from == t.to {
            return Err(StoreError::Rejected(format!(
                "transfer from {from} to itself"
            )));
        }
        if !from.may_go_negative() {
            let balance = self.balance(t.group, &from.to_string(), asset).await?;
            if balance < amount {
                return Err(StoreError::InsufficientFunds(format!(
                    "{from} holds {balance} {asset}, cannot pay {amount}"
                )));
            }
        }
        for (account, signed) in [(from, -amount), (t.to, amount)] {
            sqlx::query(
                "INSERT INTO ledger_entries (group_id, transfer_id, account, asset, amount, memo, plugin, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(t.group)
            .bind(t.id)
            .bind(account.to_string())
            .bind(asset.as_str())
            .bind(signed)
            .bind(t.memo)
            .bind(t.plugin)
            .bind(t.at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}
