//! A member's data, for a data request: everything kept about one member
//! in a group, and its erasure.
//!
//! What "names" a member where the member is not a column: a plugin storage
//! key containing the member id (a substring match), an event body or
//! outbox payload containing the member id as a JSON string (`"bob"`, a
//! `LIKE` over the JSON text: a scan of the group's rows, acceptable for a
//! request made by hand).

use super::events::RecordedEvent;
use super::*;
use sqlx::Row;

/// A plugin storage value that names a member.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredValue {
    /// The plugin that stored it.
    pub plugin: String,
    /// The key; it contains the member id.
    pub key: String,
    /// The value as text (UTF-8; bytes that are not are replaced by U+FFFD).
    pub value: String,
}

/// A member's balance of one asset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AssetBalance {
    /// Points or money.
    pub asset: Asset,
    /// The balance, in the asset's integer unit.
    pub balance: i64,
}

/// Everything kept about one member in one group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MemberData {
    /// The group.
    pub group: GroupId,
    /// The profile: display name, role, status, tags, points, inviter,
    /// times; `null` when the member has no row (never joined, or erased).
    pub member: Option<Member>,
    /// Balances of the member's account (`member:<id>`).
    pub balances: Vec<AssetBalance>,
    /// The account's ledger entries, points and money, oldest first.
    pub ledger_entries: Vec<LedgerEntry>,
    /// Messages the member sent, oldest first.
    pub messages: Vec<Message>,
    /// Join requests the member made or referred.
    pub join_requests: Vec<JoinRequest>,
    /// The member's referral code in the group, if one was issued.
    pub referral_code: Option<String>,
    /// Plugin storage keys that contain the member id.
    pub storage: Vec<StoredValue>,
    /// Processed events whose body names the member (still kept: events
    /// are pruned after the events window).
    pub events: Vec<RecordedEvent>,
    /// Plugin invocations of those events, with their logs.
    pub invocations: Vec<Invocation>,
    /// Outbox actions whose payload names the member.
    pub outbox: Vec<OutboxAction>,
    /// Audit log entries about the member (kept on erasure).
    pub audit: Vec<AuditEntry>,
}

/// What an erasure changed in one group.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// The group.
    pub group: GroupId,
    /// The account the member's ledger entries now belong to,
    /// `member:erased-<random>`: the group's sums do not change.
    pub anonymous_account: String,
    /// Member rows deleted (0 or 1).
    pub members: u64,
    /// Tags deleted.
    pub tags: u64,
    /// Join requests deleted.
    pub join_requests: u64,
    /// Messages the member sent, deleted.
    pub messages: u64,
    /// Ledger entries re-attributed to the anonymous account.
    pub ledger_entries: u64,
    /// Plugin storage keys naming the member, deleted.
    pub storage_keys: u64,
    /// Event records whose body named the member, rewritten to the
    /// anonymous id.
    pub events: u64,
    /// Invocations of those events whose logs were dropped.
    pub invocations: u64,
    /// Acknowledged outbox actions whose payload named the member,
    /// rewritten to the anonymous id.
    pub outbox_actions: u64,
}

/// `text` as a `LIKE … ESCAPE '\'` pattern matching it anywhere.
fn containing(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The member id as it appears in JSON text: `"bob"`.
fn quoted(member: &str) -> String {
    serde_json::to_string(member).expect("a string serializes")
}

impl Store {
    /// The groups in which anything names `member`, sorted.
    pub async fn groups_naming_member(&self, member: &str) -> Result<Vec<GroupId>> {
        Ok(sqlx::query_scalar(
            "SELECT group_id FROM members WHERE member_id = $1 \
             UNION SELECT group_id FROM member_tags WHERE member_id = $1 \
             UNION SELECT group_id FROM ledger_entries WHERE account = $2 \
             UNION SELECT group_id FROM messages WHERE sender = $1 \
             UNION SELECT group_id FROM join_requests WHERE member_id = $1 OR referrer = $1 \
             UNION SELECT group_id FROM plugin_storage WHERE key LIKE $3 ESCAPE '\\' \
             UNION SELECT group_id FROM events WHERE body LIKE $4 ESCAPE '\\' \
             ORDER BY 1",
        )
        .bind(member)
        .bind(format!("member:{member}"))
        .bind(containing(member))
        .bind(containing(&quoted(member)))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Everything kept about `member` in `group` (see `MemberData`).
    pub async fn member_data(&self, group: &str, member: &str) -> Result<MemberData> {
        let account = format!("member:{member}");
        let named = containing(&quoted(member));
        let balances = sqlx::query(
            "SELECT asset, CAST(SUM(amount) AS BIGINT) AS balance FROM ledger_entries \
             WHERE group_id = $1 AND account = $2 GROUP BY asset ORDER BY asset",
        )
        .bind(group)
        .bind(&account)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(AssetBalance {
                asset: parse(&row.try_get::<String, _>("asset")?)?,
                balance: row.try_get("balance")?,
            })
        })
        .collect::<Result<_>>()?;
        let ledger_entries = sqlx::query(
            "SELECT transfer_id, account, asset, amount, memo, at FROM ledger_entries \
             WHERE group_id = $1 AND account = $2 ORDER BY id",
        )
        .bind(group)
        .bind(&account)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::ledger::ledger_entry_from_row)
        .collect::<Result<_>>()?;
        let messages = sqlx::query(
            "SELECT * FROM messages WHERE group_id = $1 AND sender = $2 ORDER BY sent_at, id",
        )
        .bind(group)
        .bind(member)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::messages::message_from_row)
        .collect::<Result<_>>()?;
        let join_requests = sqlx::query(
            "SELECT * FROM join_requests WHERE group_id = $1 AND (member_id = $2 OR referrer = $2) \
             ORDER BY requested_at, id",
        )
        .bind(group)
        .bind(member)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::join_requests::join_request_from_row)
        .collect::<Result<_>>()?;
        let storage = sqlx::query(
            "SELECT plugin, key, value FROM plugin_storage WHERE group_id = $1 \
             AND key LIKE $2 ESCAPE '\\' ORDER BY plugin, key",
        )
        .bind(group)
        .bind(containing(member))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(StoredValue {
                plugin: row.try_get("plugin")?,
                key: row.try_get("key")?,
                value: String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>("value")?).into_owned(),
            })
        })
        .collect::<Result<_>>()?;
        let events = sqlx::query(
            "SELECT id, kind, body, outcome, received_at FROM events WHERE group_id = $1 \
             AND body LIKE $2 ESCAPE '\\' ORDER BY received_at, id",
        )
        .bind(group)
        .bind(&named)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::events::recorded_event_from_row)
        .collect::<Result<_>>()?;
        let invocations = sqlx::query(
            "SELECT * FROM invocations WHERE group_id = $1 AND event_id IN \
             (SELECT id FROM events WHERE group_id = $1 AND body LIKE $2 ESCAPE '\\') ORDER BY id",
        )
        .bind(group)
        .bind(&named)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::events::invocation_from_row)
        .collect::<Result<_>>()?;
        let outbox = sqlx::query(
            "SELECT * FROM outbox WHERE group_id = $1 AND payload LIKE $2 ESCAPE '\\' ORDER BY id",
        )
        .bind(group)
        .bind(&named)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::outbox::outbox_from_row)
        .collect::<Result<_>>()?;
        let audit =
            sqlx::query("SELECT * FROM audit_log WHERE group_id = $1 AND subject = $2 ORDER BY id")
                .bind(group)
                .bind(member)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(super::audit::audit_from_row)
                .collect::<Result<_>>()?;
        Ok(MemberData {
            group: group.to_string(),
            member: self.get_member(group, member).await?,
            balances,
            ledger_entries,
            messages,
            join_requests,
            referral_code: self.referral_code_of(group, member).await?,
            storage,
            events,
            invocations,
            outbox,
            audit,
        })
    }
}

impl Tx<'_> {
    /// Erases `member` from `group`, as `anonymous` (an id such as
    /// `erased-3f9a…`, new for each erasure): the member's row, tags, join
    /// requests, messages and the storage keys naming them are deleted;
    /// their ledger entries move to `member:<anonymous>` (sums unchanged),
    /// the member id in the memos of those transfers, in inviters and
    /// referrers, in message mentions, and the id and display name (as JSON
    /// strings) in the event records and acknowledged outbox actions naming
    /// them become the anonymous id;
    /// the logs of those events' invocations are dropped. Pending outbox
    /// actions are left to be delivered; the audit log is kept as it is.
    /// The caller holds the group's turn.
    pub async fn erase_member(
        &mut self,
        group: &str,
        member: &str,
        anonymous: &str,
    ) -> Result<Erasure> {
        self.lock_group(group).await?;
        let account = format!("member:{member}");
        let anonymous_account = format!("member:{anonymous}");
        let (q, qa) = (quoted(member), quoted(anonymous));
        let named = containing(&q);
        let mut e = Erasure {
            group: group.to_string(),
            anonymous_account: anonymous_account.clone(),
            ..Erasure::default()
        };
        // Their display names, read before their rows go: as JSON strings
        // in the event records naming them (a join's body carries the name).
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT display_name FROM join_requests WHERE group_id = $1 AND member_id = $2 \
             UNION SELECT display_name FROM members WHERE group_id = $1 AND member_id = $2",
        )
        .bind(group)
        .bind(member)
        .fetch_all(&mut *self.tx)
        .await?;
        // Each statement binds $1 = group and its own $2.. values.
        macro_rules! run {
            ($sql:expr $(, $v:expr)*) => {
                sqlx::query($sql).bind(group)$(.bind($v))*.execute(&mut *self.tx).await?.rows_affected()
            };
        }
        run!(
            "UPDATE ledger_entries SET memo = REPLACE(memo, $2, $3) WHERE group_id = $1 \
             AND transfer_id IN (SELECT transfer_id FROM ledger_entries WHERE group_id = $1 AND account = $4)",
            member,
            anonymous,
            &account
        );
        e.ledger_entries = run!(
            "UPDATE ledger_entries SET account = $3 WHERE group_id = $1 AND account = $2",
            &account,
            &anonymous_account
        );
        run!(
            "UPDATE members SET inviter = $3 WHERE group_id = $1 AND inviter = $2",
            member,
            anonymous
        );
        e.tags = run!(
            "DELETE FROM member_tags WHERE group_id = $1 AND member_id = $2",
            member
        );
        e.members = run!(
            "DELETE FROM members WHERE group_id = $1 AND member_id = $2",
            member
        );
        e.join_requests = run!(
            "DELETE FROM join_requests WHERE group_id = $1 AND member_id = $2",
            member
        );
        // The code goes with the member: a link they shared no longer
        // attributes anyone (to them or to the anonymous account).
        run!(
            "DELETE FROM referral_codes WHERE group_id = $1 AND member_id = $2",
            member
        );
        run!(
            "UPDATE join_requests SET referrer = $3 WHERE group_id = $1 AND referrer = $2",
            member,
            anonymous
        );
        e.messages = run!(
            "DELETE FROM messages WHERE group_id = $1 AND sender = $2",
            member
        );
        run!(
            "UPDATE messages SET mentions = REPLACE(mentions, $2, $3) WHERE group_id = $1 \
             AND mentions LIKE $4 ESCAPE '\\'",
            &q,
            &qa,
            &named
        );
        e.storage_keys = run!(
            "DELETE FROM plugin_storage WHERE group_id = $1 AND key LIKE $2 ESCAPE '\\'",
            containing(member)
        );
        // Logs are free text: the member id cannot be replaced in them
        // safely, so they go.
        e.invocations = run!(
            "UPDATE invocations SET logs = '[]' WHERE group_id = $1 AND event_id IN \
             (SELECT id FROM events WHERE group_id = $1 AND body LIKE $2 ESCAPE '\\')",
            &named
        );
        // The effects kept for replays and shadow runs name them as a
        // member id or as a ledger account: both become the anonymous ones.
        let as_account = format!("\"{account}\"");
        let anonymous_as_account = format!("\"{anonymous_account}\"");
        for (table, column) in [
            ("invocations", "effects"),
            ("shadow_runs", "live_effects"),
            ("shadow_runs", "shadow_effects"),
        ] {
            let sql = format!(
                "UPDATE {table} SET {column} = REPLACE(REPLACE({column}, $2, $3), $4, $5) \
                 WHERE group_id = $1 AND ({column} LIKE $6 ESCAPE '\\' OR {column} LIKE $7 ESCAPE '\\')"
            );
            run!(
                &sql,
                &q,
                &qa,
                &as_account,
                &anonymous_as_account,
                &named,
                containing(&as_account)
            );
        }
        for name in names
            .iter()
            .filter(|n| !n.is_empty() && n.as_str() != member)
        {
            let qn = quoted(name);
            run!(
                "UPDATE events SET body = REPLACE(body, $2, $3), outcome = REPLACE(outcome, $2, $3) \
                 WHERE group_id = $1 AND body LIKE $4 ESCAPE '\\'",
                &qn,
                &qa,
                &named
            );
            run!(
                "UPDATE outbox SET payload = REPLACE(payload, $2, $3) WHERE group_id = $1 \
                 AND acked_at IS NOT NULL AND payload LIKE $4 ESCAPE '\\'",
                &qn,
                &qa,
                &named
            );
        }
        e.events = run!(
            "UPDATE events SET body = REPLACE(body, $2, $3), outcome = REPLACE(outcome, $2, $3) \
             WHERE group_id = $1 AND body LIKE $4 ESCAPE '\\'",
            &q,
            &qa,
            &named
        );
        e.outbox_actions = run!(
            "UPDATE outbox SET payload = REPLACE(payload, $2, $3) WHERE group_id = $1 \
             AND acked_at IS NOT NULL AND payload LIKE $4 ESCAPE '\\'",
            &q,
            &qa,
            &named
        );
        Ok(e)
    }
}
