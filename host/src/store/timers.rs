//! Plugin timers.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A plugin's timer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Timer {
    /// The plugin that set the timer.
    pub plugin: String,
    /// The group it was set for.
    pub group: GroupId,
    /// Name given by the plugin, unique per plugin and group.
    pub name: String,
    /// When the timer fires next. Unix epoch milliseconds.
    pub due_at: Millis,
    /// Repeat period in milliseconds; null for a one-shot timer.
    pub period_ms: Option<i64>,
    /// Passed to the plugin's `on-timer` when it fires.
    pub payload: String,
}

fn timer_from_row(row: &AnyRow) -> Result<Timer> {
    Ok(Timer {
        plugin: row.try_get("plugin")?,
        group: row.try_get("group_id")?,
        name: row.try_get("name")?,
        due_at: row.try_get("due_at")?,
        period_ms: row.try_get("period_ms")?,
        payload: row.try_get("payload")?,
    })
}

impl Store {
    /// Claims due timers of plugins that are enabled and not switched off,
    /// in groups not archived (an archived group's timers wait, and fire
    /// when it is back), until `claim_until`: no other process takes them
    /// before then (Postgres: rows another process is claiming right now
    /// are skipped, not waited for). Setting the timer again (the firing
    /// reschedules it) ends the claim; a claim whose process died runs out.
    pub async fn claim_due_timers(
        &self,
        now: Millis,
        claim_until: Millis,
        limit: u32,
    ) -> Result<Vec<Timer>> {
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE OF t SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE timers SET claimed_until = $2 WHERE (plugin, group_id, name) IN (\
             SELECT t.plugin, t.group_id, t.name FROM timers t \
             JOIN enablements e ON e.group_id = t.group_id AND e.plugin = t.plugin \
             JOIN groups g ON g.id = t.group_id \
             WHERE t.due_at <= $1 AND (t.claimed_until IS NULL OR t.claimed_until <= $1) \
             AND e.disabled_reason IS NULL AND g.archived_at IS NULL \
             ORDER BY t.due_at LIMIT {} {skip_locked}) \
             RETURNING plugin, group_id, name, due_at, period_ms, payload",
            limit.min(MAX_LIST)
        );
        let mut tx = self.begin().await?;
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(claim_until)
            .fetch_all(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        let mut due = rows
            .iter()
            .map(timer_from_row)
            .collect::<Result<Vec<_>>>()?;
        due.sort_by_key(|t| t.due_at);
        Ok(due)
    }

    /// A group's timers, soonest first.
    pub async fn timers(&self, group: &str) -> Result<Vec<Timer>> {
        let rows = sqlx::query("SELECT * FROM timers WHERE group_id = $1 ORDER BY due_at, name")
            .bind(group)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(timer_from_row).collect()
    }
}

impl Tx<'_> {
    /// Sets a timer, replacing one of the same name.
    pub async fn set_timer(&mut self, t: &Timer) -> Result<()> {
        sqlx::query(
            "INSERT INTO timers (plugin, group_id, name, due_at, period_ms, payload) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (plugin, group_id, name) DO UPDATE SET due_at = $4, period_ms = $5, payload = $6, \
             claimed_until = NULL",
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

    /// Cancels a timer; nothing if it does not exist.
    pub async fn cancel_timer(&mut self, plugin: &str, group: &str, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM timers WHERE plugin = $1 AND group_id = $2 AND name = $3")
            .bind(plugin)
            .bind(group)
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
