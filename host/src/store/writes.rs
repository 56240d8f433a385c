//! Writes, always inside a transaction: an event's effects commit together.

use super::cache::{Cache, Key};
use super::*;
use sqlx::{Any, Row, Transaction};

pub struct Tx<'c> {
    // Declared before `_turn`: a dropped transaction rolls back before the
    // next writer's turn.
    tx: Transaction<'c, Any>,
    cache: Arc<Cache>,
    /// Cached rows this transaction changes, evicted when it commits.
    evict: Vec<Key>,
    /// SQLite's writer turn (see `Store::writer`).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serializes")
}

impl<'c> Tx<'c> {
    pub(super) fn new(
        tx: Transaction<'c, Any>,
        cache: Arc<Cache>,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Self {
        Tx {
            tx,
            cache,
            evict: vec![],
            _turn: turn,
        }
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.cache.evict(&self.evict);
        Ok(())
    }

    fn changes(&mut self, key: Key) {
        if !self.evict.contains(&key) {
            self.evict.push(key);
        }
    }

    pub async fn insert_group(&mut self, g: &Group) -> Result<()> {
        let result = sqlx::query(
            "INSERT INTO groups (id, name, positioning, category, region, capacity, parent, timezone, settings, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&g.id)
        .bind(&g.name)
        .bind(&g.positioning)
        .bind(&g.category)
        .bind(&g.region)
        .bind(g.capacity as i64)
        .bind(&g.parent)
        .bind(&g.timezone)
        .bind(to_json(&g.settings))
        .bind(g.created_at)
        .execute(&mut *self.tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "group {:?} already exists",
                g.id
            )));
        }
        Ok(())
    }

    pub async fn update_group(&mut self, g: &Group) -> Result<()> {
        self.changes(Key::Group(g.id.clone()));
        let result = sqlx::query(
            "UPDATE groups SET name = $2, positioning = $3, category = $4, region = $5, capacity = $6, parent = $7, \
             timezone = $8, settings = $9 WHERE id = $1",
        )
        .bind(&g.id)
        .bind(&g.name)
        .bind(&g.positioning)
        .bind(&g.category)
        .bind(&g.region)
        .bind(g.capacity as i64)
        .bind(&g.parent)
        .bind(&g.timezone)
        .bind(to_json(&g.settings))
        .execute(&mut *self.tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {:?}", g.id)));
        }
        Ok(())
    }

    /// Inserts or replaces a member's row (not tags or points).
    pub async fn upsert_member(&mut self, m: &Member) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO members ({MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (group_id, member_id) DO UPDATE SET display_name = $3, role = $4, status = $5, inviter = $6, \
             joined_at = $7, last_active_at = $8, paid_tier = $9, paid_until = $10, restricted_until = $11"
        ))
        .bind(&m.group)
        .bind(&m.id)
        .bind(&m.display_name)
        .bind(m.role.as_str())
        .bind(m.status.as_str())
        .bind(&m.inviter)
        .bind(m.joined_at)
        .bind(m.last_active_at)
        .bind(&m.paid_tier)
        .bind(m.paid_until)
        .bind(m.restricted_until)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn get_member_row(&mut self, group: &str, id: &str) -> Result<Option<Member>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE group_id = $1 AND member_id = $2"
        ))
        .bind(group)
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    pub async fn touch_member(&mut self, group: &str, id: &str, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE members SET last_active_at = $3 WHERE group_id = $1 AND member_id = $2 \
             AND (last_active_at IS NULL OR last_active_at < $3)",
        )
        .bind(group)
        .bind(id)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_tag(
        &mut self,
        group: &str,
        member: &str,
        tag: &str,
        present: bool,
    ) -> Result<()> {
        let sql = if present {
            "INSERT INTO member_tags (group_id, member_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM member_tags WHERE group_id = $1 AND member_id = $2 AND tag = $3"
        };
        sqlx::query(sql)
            .bind(group)
            .bind(member)
            .bind(tag)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn upsert_join_request(&mut self, r: &JoinRequest) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO join_requests ({JOIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO UPDATE SET answer = $7, status = $9, reason = $10, redirect_to = $11, \
             pending_plugin = $12, decided_at = $14"
        ))
        .bind(&r.id)
        .bind(&r.group)
        .bind(&r.member)
        .bind(&r.display_name)
        .bind(&r.invite_code)
        .bind(&r.referrer)
        .bind(&r.answer)
        .bind(to_json(&r.payload))
        .bind(r.status.as_str())
        .bind(&r.reason)
        .bind(&r.redirect_to)
        .bind(&r.pending_plugin)
        .bind(r.requested_at)
        .bind(r.decided_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Closes the member's pending join request with a decision.
    pub async fn decide_pending_request(
        &mut self,
        group: &str,
        member: &str,
        status: JoinStatus,
        reason: &str,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE join_requests SET status = $3, reason = $4, decided_at = $5 \
             WHERE group_id = $1 AND member_id = $2 AND status = 'pending'",
        )
        .bind(group)
        .bind(member)
        .bind(status.as_str())
        .bind(reason)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Stores a message; false if the group already has one with its id.
    pub async fn insert_message(&mut self, m: &Message) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO messages (group_id, id, sender, kind, text, mentions, reply_to, links, sent_at, deleted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) ON CONFLICT (group_id, id) DO NOTHING",
        )
        .bind(&m.group)
        .bind(&m.id)
        .bind(&m.sender)
        .bind(m.kind.as_str())
        .bind(&m.text)
        .bind(to_json(&m.mentions))
        .bind(&m.reply_to)
        .bind(to_json(&m.links))
        .bind(m.sent_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn put_plugin(
        &mut self,
        metadata: &PluginMetadata,
        sha256: &str,
        wasm: &[u8],
        at: Millis,
    ) -> Result<()> {
        self.changes(Key::Plugin(metadata.name.clone()));
        sqlx::query(
            "INSERT INTO plugins (name, version, kind, metadata, wasm_sha256, wasm, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET version = $2, kind = $3, \
             metadata = $4, wasm_sha256 = $5, wasm = $6, installed_at = $7",
        )
        .bind(&metadata.name)
        .bind(&metadata.version)
        .bind(metadata.kind.as_str())
        .bind(to_json(metadata))
        .bind(sha256)
        .bind(wasm.to_vec())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn put_enablement(&mut self, e: &Enablement) -> Result<()> {
        self.changes(Key::Enablements(e.group.clone()));
        sqlx::query(
            "INSERT INTO enablements (group_id, plugin, position, config, capabilities, limits, enabled_at, \
             consecutive_failures, last_error, policy, disabled_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (group_id, plugin) DO UPDATE SET position = $3, config = $4, capabilities = $5, limits = $6, \
             consecutive_failures = $8, last_error = $9, policy = $10, disabled_reason = $11",
        )
        .bind(&e.group)
        .bind(&e.plugin)
        .bind(e.position)
        .bind(to_json(&e.config))
        .bind(to_json(&e.capabilities))
        .bind(to_json(&e.limits))
        .bind(e.enabled_at)
        .bind(e.consecutive_failures)
        .bind(&e.last_error)
        .bind(to_json(&e.policy))
        .bind(&e.disabled_reason)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Switches a plugin off for a group; its storage and timers stay for a re-enable,
    /// but its timers stop firing.
    pub async fn delete_enablement(&mut self, group: &str, plugin: &str) -> Result<()> {
        self.changes(Key::Enablements(group.to_string()));
        let result = sqlx::query("DELETE FROM enablements WHERE group_id = $1 AND plugin = $2")
            .bind(group)
            .bind(plugin)
            .execute(&mut *self.tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "plugin {plugin:?} on group {group:?}"
            )));
        }
        sqlx::query("DELETE FROM timers WHERE group_id = $1 AND plugin = $2")
            .bind(group)
            .bind(plugin)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Counts a plugin's failure or resets the count after a success; a
    /// failure that reaches the policy's limit switches the plugin off.
    pub async fn record_outcome(
        &mut self,
        group: &str,
        plugin: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let Some(error) = error else {
            let reset = sqlx::query("UPDATE enablements SET consecutive_failures = 0 WHERE group_id = $1 AND plugin = $2 AND consecutive_failures <> 0")
                .bind(group)
                .bind(plugin)
                .execute(&mut *self.tx)
                .await?;
            if reset.rows_affected() > 0 {
                self.changes(Key::Enablements(group.to_string()));
            }
            return Ok(());
        };
        // A failure may switch the plugin off; a success changes only counters.
        self.changes(Key::Enablements(group.to_string()));
        let row = sqlx::query(
            "UPDATE enablements SET consecutive_failures = consecutive_failures + 1, last_error = $3 \
             WHERE group_id = $1 AND plugin = $2 RETURNING consecutive_failures, policy",
        )
        .bind(group)
        .bind(plugin)
        .bind(error)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(()) };
        let failures: i64 = row.try_get("consecutive_failures")?;
        let policy: FailurePolicy = json(&row.try_get::<String, _>("policy")?)?;
        if policy
            .disable_after
            .is_some_and(|n| failures >= i64::from(n))
        {
            let reason =
                format!("switched off after {failures} failures in a row; the last: {error}");
            sqlx::query("UPDATE enablements SET disabled_reason = $3 WHERE group_id = $1 AND plugin = $2 AND disabled_reason IS NULL")
                .bind(group)
                .bind(plugin)
                .bind(reason)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    pub async fn storage_set(
        &mut self,
        plugin: &str,
        group: &str,
        key: &str,
        value: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO plugin_storage (plugin, group_id, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plugin, group_id, key) DO UPDATE SET value = $4",
        )
        .bind(plugin)
        .bind(group)
        .bind(key)
        .bind(value.to_vec())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn storage_delete(&mut self, plugin: &str, group: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM plugin_storage WHERE plugin = $1 AND group_id = $2 AND key = $3")
            .bind(plugin)
            .bind(group)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn balance(&mut self, group: &str, account: &str, asset: Asset) -> Result<i64> {
        Ok(sqlx::query_scalar(BALANCE_SQL)
            .bind(group)
            .bind(account)
            .bind(asset.as_str())
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Writes both sides of a transfer, refusing one that would overdraw `from`.
    #[allow(clippy::too_many_arguments)]
    pub async fn transfer(
        &mut self,
        group: &str,
        id: &str,
        from: &Account,
        to: &Account,
        asset: Asset,
        amount: i64,
        memo: &str,
        plugin: Option<&str>,
        at: Millis,
    ) -> Result<()> {
        if amount <= 0 {
            return Err(StoreError::Invalid(format!(
                "transfer amount must be positive, got {amount}"
            )));
        }
        if from == to {
            return Err(StoreError::Invalid(format!(
                "transfer from {from} to itself"
            )));
        }
        if !from.may_go_negative() {
            let balance = self.balance(group, &from.to_string(), asset).await?;
            if balance < amount {
                return Err(StoreError::InsufficientFunds(format!(
                    "{from} holds {balance} {asset}, cannot pay {amount}"
                )));
            }
        }
        for (account, signed) in [(from, -amount), (to, amount)] {
            sqlx::query(
                "INSERT INTO ledger_entries (group_id, transfer_id, account, asset, amount, memo, plugin, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(group)
            .bind(id)
            .bind(account.to_string())
            .bind(asset.as_str())
            .bind(signed)
            .bind(memo)
            .bind(plugin)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    pub async fn set_timer(&mut self, t: &Timer) -> Result<()> {
        sqlx::query(
            "INSERT INTO timers (plugin, group_id, name, due_at, period_ms, payload) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (plugin, group_id, name) DO UPDATE SET due_at = $4, period_ms = $5, payload = $6",
        )
        .bind(&t.plugin)
        .bind(&t.group)
        .bind(&t.name)
        .bind(t.due_at)
        .bind(t.period_ms)
        .bind(&t.payload)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn cancel_timer(&mut self, plugin: &str, group: &str, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM timers WHERE plugin = $1 AND group_id = $2 AND name = $3")
            .bind(plugin)
            .bind(group)
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Claims an event id. Returns false if it was already processed: the
    /// caller then rolls back, so nothing is applied twice.
    pub async fn insert_event(
        &mut self,
        id: &str,
        group: &str,
        kind: &str,
        body: &str,
        outcome: &serde_json::Value,
        at: Millis,
    ) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO events (id, group_id, kind, body, outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(group)
        .bind(kind)
        .bind(body)
        .bind(to_json(outcome))
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records invocations, many rows per statement.
    pub async fn insert_invocations(&mut self, list: &[Invocation]) -> Result<()> {
        const COLUMNS: usize = 10;
        for chunk in list.chunks(100) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let params: Vec<String> = (1..=COLUMNS)
                        .map(|c| format!("${}", r * COLUMNS + c))
                        .collect();
                    format!("({})", params.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO invocations (event_id, group_id, plugin, handler, ok, error, fuel_used, duration_us, logs, at) \
                 VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for inv in chunk {
                query = query
                    .bind(&inv.event_id)
                    .bind(&inv.group)
                    .bind(&inv.plugin)
                    .bind(&inv.handler)
                    .bind(inv.ok as i64)
                    .bind(&inv.error)
                    .bind(inv.fuel_used)
                    .bind(inv.duration_us)
                    .bind(to_json(&inv.logs))
                    .bind(inv.at);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Marks outbox actions delivered; returns how many were not already.
    pub async fn ack_outbox(&mut self, ids: &[i64], now: Millis) -> Result<u64> {
        let mut acked = 0;
        for id in ids {
            acked +=
                sqlx::query("UPDATE outbox SET acked_at = $1 WHERE id = $2 AND acked_at IS NULL")
                    .bind(now)
                    .bind(*id)
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
        }
        Ok(acked)
    }

    pub async fn push_outbox(
        &mut self,
        group: &str,
        action: &str,
        payload: &serde_json::Value,
        plugin: Option<&str>,
        at: Millis,
    ) -> Result<()> {
        sqlx::query("INSERT INTO outbox (group_id, action, payload, plugin, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(group)
            .bind(action)
            .bind(to_json(payload))
            .bind(plugin)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn mark_message_deleted(
        &mut self,
        group: &str,
        id: &str,
        reason: &str,
    ) -> Result<bool> {
        let r = sqlx::query("UPDATE messages SET deleted = 1, delete_reason = $3 WHERE group_id = $1 AND id = $2 AND deleted = 0")
            .bind(group)
            .bind(id)
            .bind(reason)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }
}

impl Tx<'_> {
    /// Records a token by the hash of its secret; `false` if the hash exists.
    pub async fn insert_token(
        &mut self,
        id: &str,
        name: &str,
        hash: &str,
        scope: Scope,
        groups: &[GroupId],
        at: Millis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, scope, groups, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(hash)
        .bind(scope.as_str())
        .bind(to_json(&groups))
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn delete_token(&mut self, id: &str) -> Result<()> {
        let r = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {id:?}")));
        }
        Ok(())
    }
}
