//! The outbox: actions for the adapters to carry out.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) fn outbox_from_row(row: &AnyRow) -> Result<OutboxAction> {
    Ok(OutboxAction {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        action: row.try_get("action")?,
        payload: json(&row.try_get::<String, _>("payload")?)?,
        created_at: row.try_get("created_at")?,
        plugin: row.try_get("plugin")?,
        attempts: row.try_get("attempts")?,
    })
}

/// Which outbox actions a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutboxState {
    /// Not acknowledged and not dead: still to be delivered.
    #[default]
    Pending,
    /// Set aside after `MAX_DELIVERY_ATTEMPTS` leases without an acknowledgement.
    Dead,
}

/// How many leases an action gets before it is set aside as dead.
pub const MAX_DELIVERY_ATTEMPTS: i64 = 10;

/// A request for actions to deliver (`Store::lease_outbox`).
#[derive(Debug, Clone, Copy)]
pub struct LeaseRequest<'a> {
    /// Only this group's actions.
    pub group: Option<&'a str>,
    /// At most this many actions.
    pub limit: u32,
    /// When the lease is taken. Unix epoch milliseconds.
    pub now: Millis,
    /// How long the worker has to acknowledge, in milliseconds.
    pub lease_ms: i64,
}

impl Store {
    /// Unacknowledged actions, oldest first, optionally for one group:
    /// those still to deliver, or those set aside as dead.
    pub async fn outbox(
        &self,
        group: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxAction>> {
        self.outbox_in(OutboxState::Pending, group, after, limit)
            .await
    }

    /// Like `outbox`, for actions in `state`.
    pub async fn outbox_in(
        &self,
        state: OutboxState,
        group: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxAction>> {
        let dead = match state {
            OutboxState::Pending => "IS NULL",
            OutboxState::Dead => "IS NOT NULL",
        };
        let sql = format!(
            "SELECT * FROM outbox WHERE acked_at IS NULL AND dead_at {dead} AND id > $1 \
             AND ($2 = '' OR group_id = $2) ORDER BY id LIMIT {}",
            limit.clamp(1, MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(group.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(outbox_from_row).collect()
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

    /// How many actions wait for an adapter (neither acknowledged nor dead).
    pub async fn outbox_pending(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE acked_at IS NULL AND dead_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    /// Leases actions to one adapter worker: the oldest pending ones of
    /// groups no other worker holds a live lease in (so a group's actions
    /// are delivered in order, by one worker at a time), each until
    /// `now + lease_ms`. An action whose lease ran out unacknowledged is
    /// leased again with one more attempt; after `MAX_DELIVERY_ATTEMPTS` it
    /// is set aside as dead instead. Postgres: lease calls from every process
    /// take turns on one advisory lock, so two workers never share a group.
    pub async fn lease_outbox(&self, req: LeaseRequest<'_>) -> Result<Vec<OutboxAction>> {
        let mut tx = self.begin().await?;
        let mut leased = tx.lease_outbox(req).await?;
        tx.commit().await?;
        leased.sort_by_key(|a| a.id);
        Ok(leased)
    }

    /// Marks outbox actions delivered, in a transaction of their own.
    pub async fn ack_outbox(&self, ids: &[i64], now: Millis) -> Result<u64> {
        let mut tx = self.begin().await?;
        let acked = tx.ack_outbox(ids, now).await?;
        tx.commit().await?;
        Ok(acked)
    }
}

impl Tx<'_> {
    /// Queues an action (`payload` is the action's own JSON) for the adapters.
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

    /// See `Store::lease_outbox`.
    async fn lease_outbox(&mut self, req: LeaseRequest<'_>) -> Result<Vec<OutboxAction>> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kith:outbox-lease'))")
                .execute(&mut *self.tx)
                .await?;
        }
        sqlx::query(
            "UPDATE outbox SET dead_at = $1 WHERE acked_at IS NULL AND dead_at IS NULL \
             AND attempts >= $2 AND leased_until < $1",
        )
        .bind(req.now)
        .bind(MAX_DELIVERY_ATTEMPTS)
        .execute(&mut *self.tx)
        .await?;
        // Groups with a live lease are skipped as a whole: their actions stay
        // in order behind the worker that holds them.
        let sql = format!(
            "UPDATE outbox SET leased_until = $1, attempts = attempts + 1 WHERE id IN ( \
               SELECT id FROM outbox o WHERE acked_at IS NULL AND dead_at IS NULL \
               AND (leased_until IS NULL OR leased_until < $2) AND ($3 = '' OR group_id = $3) \
               AND NOT EXISTS (SELECT 1 FROM outbox l WHERE l.group_id = o.group_id \
                 AND l.acked_at IS NULL AND l.dead_at IS NULL AND l.leased_until >= $2) \
               ORDER BY id LIMIT {}) RETURNING *",
            req.limit.clamp(1, MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(req.now.saturating_add(req.lease_ms))
            .bind(req.now)
            .bind(req.group.unwrap_or(""))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(outbox_from_row).collect()
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
}
