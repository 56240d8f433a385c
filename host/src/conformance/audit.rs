//! What the conformance suite checks on a group's final state: the ledger
//! invariants, and a snapshot of everything a plugin can change, to compare
//! a group between two runs (see docs/conformance.md).

use std::collections::BTreeSet;

use crate::domain::{Account, Asset};
use crate::store::{Store, MAX_LIST};

/// One account's balance of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The account, e.g. `member:amy`, `issuer`, `escrow:env-1`.
    pub account: String,
    /// Points or money.
    pub asset: Asset,
    /// The balance in minor units (points, or cents of money).
    pub amount: i64,
}

/// The ledger invariants of a group, each a sentence when broken:
/// no account but `issuer` and `external` below zero; what the sources
/// issued (−`issuer` points, −`external` money) equals what wallets, the
/// treasury and escrows hold; every escrow holding value is named in
/// `storage` (the plugin's keys and values), i.e. still tracked by the
/// plugin that will settle it, so value is never stranded.
pub fn ledger_problems(balances: &[Balance], storage: &str) -> Vec<String> {
    let mut problems = vec![];
    for b in balances {
        let account = Account::parse(&b.account);
        if b.amount < 0 && !account.as_ref().is_ok_and(Account::may_go_negative) {
            problems.push(format!(
                "{} holds {} {}: below zero",
                b.account, b.amount, b.asset
            ));
        }
        if let Ok(Account::Escrow(name)) = &account {
            if b.amount != 0 && !storage.contains(name.as_str()) {
                problems.push(format!(
                    "{} holds {} {} that the plugin's storage never mentions: neither settled nor accounted for",
                    b.account, b.amount, b.asset
                ));
            }
        }
    }
    for asset in Asset::ALL {
        let of = |source: bool| -> i64 {
            balances
                .iter()
                .filter(|b| b.asset == *asset)
                .filter(|b| Account::parse(&b.account).is_ok_and(|a| a.may_go_negative()) == source)
                .map(|b| b.amount)
                .sum()
        };
        let (issued, held) = (-of(true), of(false));
        if issued != held {
            problems.push(format!(
                "{asset}: {issued} issued by issuer and external, but {held} held by wallets, treasury and escrows"
            ));
        }
    }
    problems
}

/// The ledger invariants of `group` after a run of `plugin`.
pub async fn ledger(store: &Store, group: &str, plugin: &str) -> anyhow::Result<Vec<String>> {
    let balances = balances(store, group).await?;
    let storage = storage(store, group, plugin).await?.join("\n");
    Ok(ledger_problems(&balances, &storage))
}

async fn balances(store: &Store, group: &str) -> anyhow::Result<Vec<Balance>> {
    Ok(store
        .balances(group)
        .await?
        .into_iter()
        .map(|(account, asset, amount)| Balance {
            account,
            asset,
            amount,
        })
        .collect())
}

/// The plugin's storage in a group, one `key = value` line per key.
async fn storage(store: &Store, group: &str, plugin: &str) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![];
    for key in store.storage_keys(plugin, group, "", MAX_LIST).await? {
        let value = store.storage_get(plugin, group, &key).await?;
        let value = String::from_utf8_lossy(&value.unwrap_or_default()).into_owned();
        lines.push(format!("storage {key} = {value}"));
    }
    Ok(lines)
}

/// Everything in `group` a plugin can change, one line per fact: members
/// (role, status, tags, points, inviter, paid tier…), balances, the
/// plugin's storage and timers, and the actions queued for the adapter
/// (without their ids, which count across groups).
pub async fn snapshot(
    store: &Store,
    group: &str,
    plugin: &str,
) -> anyhow::Result<BTreeSet<String>> {
    let mut lines: BTreeSet<String> = BTreeSet::new();
    for m in store.list_members(group, &Default::default()).await? {
        lines.insert(format!("member {}", serde_json::to_string(&m)?));
    }
    for b in balances(store, group).await? {
        lines.insert(format!("balance {} {} = {}", b.account, b.asset, b.amount));
    }
    lines.extend(storage(store, group, plugin).await?);
    for t in store.timers(group).await? {
        lines.insert(format!(
            "timer {} {} at {} every {:?}: {}",
            t.plugin, t.name, t.due_at, t.period_ms, t.payload
        ));
    }
    for (i, a) in store
        .outbox(Some(group), 0, MAX_LIST)
        .await?
        .iter()
        .enumerate()
    {
        lines.insert(format!("action {i} {} {}", a.action, a.payload));
    }
    Ok(lines)
}

/// Lines only in `a` (`-`) or only in `b` (`+`), at most `max` of them.
pub fn diff(a: &BTreeSet<String>, b: &BTreeSet<String>, max: usize) -> Vec<String> {
    a.difference(b)
        .map(|l| format!("- {l}"))
        .chain(b.difference(a).map(|l| format!("+ {l}")))
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(account: &str, asset: Asset, amount: i64) -> Balance {
        Balance {
            account: account.into(),
            asset,
            amount,
        }
    }

    #[test]
    fn a_balanced_ledger_passes() {
        let ledger = [
            b("issuer", Asset::Points, -30),
            b("member:amy", Asset::Points, 20),
            b("escrow:env-1", Asset::Points, 10),
            b("external", Asset::Money, -500),
            b("group", Asset::Money, 500),
        ];
        assert_eq!(
            ledger_problems(&ledger, "storage env-1 = {}"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_invariant_can_fail() {
        // A wallet below zero: the host refuses such transfers, so only a
        // host fault (a one-sided entry, say) gets here.
        let negative = [
            b("issuer", Asset::Points, 5),
            b("member:amy", Asset::Points, -5),
        ];
        let p = ledger_problems(&negative, "");
        assert!(
            p[0].contains("member:amy holds -5 points: below zero"),
            "{p:?}"
        );
        let lost = [
            b("issuer", Asset::Points, -10),
            b("member:amy", Asset::Points, 7),
        ];
        let p = ledger_problems(&lost, "");
        assert!(p[0].contains("points: 10 issued"), "{p:?}");
        let stranded = [
            b("issuer", Asset::Points, -10),
            b("escrow:lost", Asset::Points, 10),
        ];
        let p = ledger_problems(&stranded, "storage env-1 = {}");
        assert!(p[0].contains("escrow:lost holds 10 points"), "{p:?}");
        assert!(ledger_problems(&stranded, "storage lost = 10").is_empty());
    }
}
