//! The outbox: actions for the adapters to carry out.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

fn outbox_from_row(row: &AnyRow) -> Result<OutboxAction> {
    Ok(OutboxAction {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        action: row.try_get("action")?,
        payload: json(&row.try_get::<String, _>("payload")?)?,
        created_at: row.try_get("created_at")?,
        plugin: row.try_get("plugin")?,
    })
}

impl Store {
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
