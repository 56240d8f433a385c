//! Reads, straight from the pool.

use super::*;
use std::collections::HashMap;

const POINTS_SUBQUERY: &str = "(SELECT CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) FROM ledger_entries l \
     WHERE l.group_id = m.group_id AND l.account = 'member:' || m.member_id AND l.asset = 'points') AS points";

impl Store {
    pub async fn get_group(&self, id: &str) -> Result<Group> {
        if let Some(g) = self.cache.group(id) {
            return Ok(g);
        }
        let since = self.cache.generation();
        let row = sqlx::query("SELECT * FROM groups WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let group = row
            .as_ref()
            .map(group_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("group {id:?}")))?;
        self.cache.keep_group(since, &group);
        Ok(group)
    }

    pub async fn list_groups(&self, parent: Option<&str>) -> Result<Vec<Group>> {
        let rows = match parent {
            Some(p) => {
                sqlx::query("SELECT * FROM groups WHERE parent = $1 ORDER BY id")
                    .bind(p)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM groups ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(group_from_row).collect()
    }

    /// Other groups of the same alliance.
    pub async fn siblings(&self, group: &Group) -> Result<Vec<Group>> {
        let Some(parent) = &group.parent else {
            return Ok(vec![]);
        };
        let rows = sqlx::query("SELECT * FROM groups WHERE parent = $1 AND id <> $2 ORDER BY id")
            .bind(parent)
            .bind(&group.id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(group_from_row).collect()
    }

    pub async fn counts(&self, group: &str) -> Result<GroupCounts> {
        if let Some(seen) = self
            .event
            .as_ref()
            .and_then(|e| e.counts.lock().expect("reads").get(group).copied())
        {
            return Ok(seen);
        }
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM members WHERE group_id = $1 GROUP BY status",
        )
        .bind(group)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = GroupCounts::default();
        for row in rows {
            let n = row.try_get::<i64, _>("n")? as u32;
            match parse::<MemberStatus>(&row.try_get::<String, _>("status")?)? {
                MemberStatus::Active => counts.active = n,
                MemberStatus::Pending => counts.pending = n,
                MemberStatus::Left => counts.left = n,
                MemberStatus::Removed => counts.removed = n,
            }
        }
        if let Some(e) = &self.event {
            e.counts
                .lock()
                .expect("reads")
                .insert(group.to_string(), counts);
        }
        Ok(counts)
    }

    pub async fn get_member(&self, group: &str, id: &str) -> Result<Option<Member>> {
        let key = (group.to_string(), id.to_string());
        if let Some(seen) = self
            .event
            .as_ref()
            .and_then(|e| e.members.lock().expect("reads").get(&key).cloned())
        {
            return Ok(seen);
        }
        let member = self.read_member(group, id).await?;
        if let Some(e) = &self.event {
            e.members.lock().expect("reads").insert(key, member.clone());
        }
        Ok(member)
    }

    async fn read_member(&self, group: &str, id: &str) -> Result<Option<Member>> {
        // Tags in the same query, as a JSON array: one round trip per member.
        let tags = match self.backend {
            Backend::Sqlite => "json_group_array(tag)",
            Backend::Postgres => "COALESCE(json_agg(tag)::text, '[]')",
        };
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, {POINTS_SUBQUERY}, (SELECT {tags} FROM member_tags t \
             WHERE t.group_id = m.group_id AND t.member_id = m.member_id) AS tags \
             FROM members m WHERE group_id = $1 AND member_id = $2"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(group)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut member = member_from_row(&row)?;
        member.points = row.try_get("points")?;
        member.tags = json(&row.try_get::<String, _>("tags")?)?;
        member.tags.sort();
        Ok(Some(member))
    }

    /// Members matching a filter, oldest joined first.
    pub async fn list_members(&self, group: &str, filter: &MemberFilter) -> Result<Vec<Member>> {
        let mut sql = format!(
            "SELECT {MEMBER_COLUMNS}, {POINTS_SUBQUERY} FROM members m WHERE group_id = $1"
        );
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        if filter.role.is_some() {
            sql += &format!(" AND role = ${}", next());
        }
        if filter.status.is_some() {
            sql += &format!(" AND status = ${}", next());
        }
        if filter.tag.is_some() {
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM member_tags t WHERE t.group_id = m.group_id AND t.member_id = m.member_id AND t.tag = ${})",
                next()
            );
        }
        if filter.inactive_since.is_some() {
            sql += &format!(" AND COALESCE(last_active_at, joined_at, 0) < ${}", next());
        }
        let limit = if filter.limit == 0 {
            MAX_LIST
        } else {
            filter.limit.min(MAX_LIST)
        };
        sql += &format!(" ORDER BY COALESCE(joined_at, 0), member_id LIMIT {limit}");
        let mut query = sqlx::query(&sql).bind(group);
        if let Some(role) = filter.role {
            query = query.bind(role.as_str());
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(tag) = &filter.tag {
            query = query.bind(tag.clone());
        }
        if let Some(since) = filter.inactive_since {
            query = query.bind(since);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut tags: HashMap<String, Vec<String>> = HashMap::new();
        if !rows.is_empty() {
            for row in sqlx::query(
                "SELECT member_id, tag FROM member_tags WHERE group_id = $1 ORDER BY tag",
            )
            .bind(group)
            .fetch_all(&self.pool)
            .await?
            {
                tags.entry(row.try_get("member_id")?)
                    .or_default()
                    .push(row.try_get("tag")?);
            }
        }
        rows.iter()
            .map(|row| {
                let mut m = member_from_row(row)?;
                m.points = row.try_get("points")?;
                m.tags = tags.remove(&m.id).unwrap_or_default();
                Ok(m)
            })
            .collect()
    }

    pub async fn get_join_request(&self, id: &str) -> Result<JoinRequest> {
        let sql = format!("SELECT {JOIN_COLUMNS} FROM join_requests WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(join_request_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("join request {id:?}")))
    }

    /// The member's open join request in a group, if any.
    pub async fn pending_join_request(
        &self,
        group: &str,
        member: &str,
    ) -> Result<Option<JoinRequest>> {
        let sql = format!(
            "SELECT {JOIN_COLUMNS} FROM join_requests WHERE group_id = $1 AND member_id = $2 AND status = 'pending' \
             ORDER BY requested_at DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(group)
            .bind(member)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(join_request_from_row).transpose()
    }

    pub async fn list_join_requests(
        &self,
        group: &str,
        status: Option<JoinStatus>,
    ) -> Result<Vec<JoinRequest>> {
        let sql = format!(
            "SELECT {JOIN_COLUMNS} FROM join_requests WHERE group_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY requested_at, id LIMIT {MAX_LIST}"
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(status.map(|s| s.as_str()).unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(join_request_from_row).collect()
    }

    /// (messages, distinct senders) of members since a time; plugin posts excluded.
    pub async fn activity(&self, group: &str, since: Millis) -> Result<(u32, u32)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT sender) AS senders FROM messages \
             WHERE group_id = $1 AND sent_at >= $2 AND sender NOT LIKE 'plugin:%'",
        )
        .bind(group)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            row.try_get::<i64, _>("n")? as u32,
            row.try_get::<i64, _>("senders")? as u32,
        ))
    }

    pub async fn get_message(&self, group: &str, id: &str) -> Result<Option<Message>> {
        let row = sqlx::query("SELECT * FROM messages WHERE group_id = $1 AND id = $2")
            .bind(group)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// Newest first.
    pub async fn recent_messages(
        &self,
        group: &str,
        limit: u32,
        since: Option<Millis>,
    ) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT * FROM messages WHERE group_id = $1 AND sent_at >= $2 ORDER BY sent_at DESC, id DESC LIMIT {}",
            limit.min(MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(since.unwrap_or(i64::MIN))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    pub async fn get_plugin(&self, name: &str) -> Result<InstalledPlugin> {
        if let Some(p) = self.cache.plugin(name) {
            return Ok(p);
        }
        let since = self.cache.generation();
        let row =
            sqlx::query("SELECT metadata, wasm_sha256, installed_at FROM plugins WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("plugin {name:?}")))?;
        let plugin = InstalledPlugin {
            metadata: json(&row.try_get::<String, _>("metadata")?)?,
            sha256: row.try_get("wasm_sha256")?,
            installed_at: row.try_get("installed_at")?,
        };
        self.cache.keep_plugin(since, &plugin);
        Ok(plugin)
    }

    pub async fn plugin_wasm(&self, name: &str) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT wasm FROM plugins WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("plugin {name:?}")))
    }

    pub async fn list_plugins(&self) -> Result<Vec<InstalledPlugin>> {
        let rows =
            sqlx::query("SELECT metadata, wasm_sha256, installed_at FROM plugins ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(InstalledPlugin {
                    metadata: json(&row.try_get::<String, _>("metadata")?)?,
                    sha256: row.try_get("wasm_sha256")?,
                    installed_at: row.try_get("installed_at")?,
                })
            })
            .collect()
    }

    /// A group's enabled plugins in the operator's order.
    pub async fn enablements(&self, group: &str) -> Result<Vec<Enablement>> {
        let rows =
            sqlx::query("SELECT * FROM enablements WHERE group_id = $1 ORDER BY position, plugin")
                .bind(group)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(enablement_from_row).collect()
    }

    /// The plugins that run on a group's events, in order: those not
    /// switched off. From memory after the first call; the failure counters
    /// in it may lag (read `enablements` for those).
    pub async fn active_enablements(&self, group: &str) -> Result<Arc<Vec<Enablement>>> {
        if let Some(list) = self.cache.enablements(group) {
            return Ok(list);
        }
        let since = self.cache.generation();
        let mut list = self.enablements(group).await?;
        list.retain(|e| e.disabled_reason.is_none());
        let list = Arc::new(list);
        self.cache.keep_enablements(since, group, list.clone());
        Ok(list)
    }

    pub async fn get_enablement(&self, group: &str, plugin: &str) -> Result<Enablement> {
        let row = sqlx::query("SELECT * FROM enablements WHERE group_id = $1 AND plugin = $2")
            .bind(group)
            .bind(plugin)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(enablement_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("plugin {plugin:?} on group {group:?}")))
    }

    /// Bytes a plugin stores in a group.
    pub async fn storage_bytes(&self, plugin: &str, group: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(LENGTH(value)), 0) AS BIGINT) FROM plugin_storage WHERE plugin = $1 AND group_id = $2",
        )
        .bind(plugin)
        .bind(group)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    /// Posts and direct messages a plugin sent in a group since a time.
    pub async fn messages_sent(&self, plugin: &str, group: &str, since: Millis) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE plugin = $1 AND group_id = $2 AND created_at >= $3 \
             AND action IN ('post', 'direct')",
        )
        .bind(plugin)
        .bind(group)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u32)
    }

    pub async fn storage_get(
        &self,
        plugin: &str,
        group: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM plugin_storage WHERE plugin = $1 AND group_id = $2 AND key = $3",
        )
        .bind(plugin)
        .bind(group)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Keys from `prefix` on, sorted; the caller stops at the first key without the prefix.
    pub async fn storage_keys(
        &self,
        plugin: &str,
        group: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT key FROM plugin_storage WHERE plugin = $1 AND group_id = $2 AND key >= $3 ORDER BY key LIMIT {}",
            limit.min(MAX_LIST)
        );
        let keys: Vec<String> = sqlx::query_scalar(&sql)
            .bind(plugin)
            .bind(group)
            .bind(prefix)
            .fetch_all(&self.pool)
            .await?;
        Ok(keys
            .into_iter()
            .take_while(|k| k.starts_with(prefix))
            .collect())
    }

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
        rows.iter()
            .map(|row| {
                Ok(LedgerEntry {
                    transfer_id: row.try_get("transfer_id")?,
                    account: row.try_get("account")?,
                    asset: parse(&row.try_get::<String, _>("asset")?)?,
                    amount: row.try_get("amount")?,
                    memo: row.try_get("memo")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    /// Due timers of plugins that are enabled and not switched off.
    pub async fn due_timers(&self, now: Millis, limit: u32) -> Result<Vec<Timer>> {
        let sql = format!(
            "SELECT t.* FROM timers t JOIN enablements e ON e.group_id = t.group_id AND e.plugin = t.plugin \
             WHERE t.due_at <= $1 AND e.disabled_reason IS NULL ORDER BY t.due_at LIMIT {}",
            limit.min(MAX_LIST)
        );
        let rows = sqlx::query(&sql).bind(now).fetch_all(&self.pool).await?;
        rows.iter().map(timer_from_row).collect()
    }

    pub async fn timers(&self, group: &str) -> Result<Vec<Timer>> {
        let rows = sqlx::query("SELECT * FROM timers WHERE group_id = $1 ORDER BY due_at, name")
            .bind(group)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(timer_from_row).collect()
    }

    /// The outcome recorded for an event id, if it was already processed.
    pub async fn event_outcome(&self, id: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = sqlx::query_scalar("SELECT outcome FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        text.map(|t| json(&t)).transpose()
    }

    /// Unacknowledged actions, oldest first, optionally for one group.
    pub async fn outbox(
        &self,
        group: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxAction>> {
        let sql = format!(
            "SELECT * FROM outbox WHERE acked_at IS NULL AND id > $1 AND ($2 = '' OR group_id = $2) ORDER BY id LIMIT {}",
            limit.clamp(1, MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(group.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    pub async fn invocations(
        &self,
        group: &str,
        plugin: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Invocation>> {
        let sql = format!(
            "SELECT * FROM invocations WHERE group_id = $1 AND ($2 = '' OR plugin = $2) ORDER BY id DESC LIMIT {}",
            limit.clamp(1, MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(plugin.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Invocation {
                    id: row.try_get("id")?,
                    event_id: row.try_get("event_id")?,
                    group: row.try_get("group_id")?,
                    plugin: row.try_get("plugin")?,
                    handler: row.try_get("handler")?,
                    ok: row.try_get::<i64, _>("ok")? != 0,
                    error: row.try_get("error")?,
                    fuel_used: row.try_get("fuel_used")?,
                    duration_us: row.try_get("duration_us")?,
                    logs: json(&row.try_get::<String, _>("logs")?)?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// The principal of a token, by the SHA-256 of its secret.
    pub async fn principal(&self, token_hash: &str) -> Result<Option<Principal>> {
        let row = sqlx::query("SELECT id, scope, groups FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Principal {
                token_id: r.try_get("id")?,
                scope: parse(&r.try_get::<String, _>("scope")?)?,
                groups: json(&r.try_get::<String, _>("groups")?)?,
            })
        })
        .transpose()
    }

    /// Tokens without their secrets: id, name, scope, groups, created_at.
    pub async fn tokens(&self) -> Result<Vec<serde_json::Value>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, groups, created_at FROM api_tokens ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(serde_json::json!({
                    "id": r.try_get::<String, _>("id")?,
                    "name": r.try_get::<String, _>("name")?,
                    "scope": r.try_get::<String, _>("scope")?,
                    "groups": json::<serde_json::Value>(&r.try_get::<String, _>("groups")?)?,
                    "created_at": r.try_get::<i64, _>("created_at")?,
                }))
            })
            .collect()
    }
}
