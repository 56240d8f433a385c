//! Processed events (for idempotency) and plugin invocations.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A recorded run of a plugin handler.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Invocation {
    /// Assigned by the database; ignored by `insert_invocations`.
    pub id: i64,
    /// The event that caused the invocation.
    pub event_id: String,
    /// The group the event belonged to.
    pub group: GroupId,
    /// The plugin invoked.
    pub plugin: String,
    /// The handler's WIT name, e.g. `on-message`.
    pub handler: String,
    /// Whether the handler succeeded.
    pub ok: bool,
    /// Why it failed (handler error, trap, timeout, fuel), when it did.
    pub error: Option<String>,
    /// Wasmtime fuel the invocation consumed.
    pub fuel_used: i64,
    /// Wall-clock duration in microseconds.
    pub duration_us: i64,
    /// Log lines the plugin wrote.
    pub logs: Vec<LogLine>,
    /// The event's time. Unix epoch milliseconds.
    pub at: Millis,
}

pub(super) fn invocation_from_row(row: &AnyRow) -> Result<Invocation> {
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
}

impl Store {
    /// The body and outcome recorded for a group's event id, if it was
    /// already processed; the outcome read as the type `insert_event` was
    /// given. Event ids are unique per group, not across groups.
    pub async fn event_record<T: serde::de::DeserializeOwned>(
        &self,
        group: &str,
        id: &str,
    ) -> Result<Option<(String, T)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT body, outcome FROM events WHERE group_id = $1 AND id = $2")
                .bind(group)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(body, outcome)| Ok((body, json(&outcome)?)))
            .transpose()
    }

    /// A group's invocations, newest first, optionally of one plugin.
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
        rows.iter().map(invocation_from_row).collect()
    }
}

impl Tx<'_> {
    /// Claims a group's event id. Returns false if it was already processed:
    /// the caller then rolls back, so nothing is applied twice.
    pub async fn insert_event(
        &mut self,
        id: &str,
        group: &str,
        kind: &str,
        body: &str,
        outcome: &impl serde::Serialize,
        at: Millis,
    ) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO events (id, group_id, kind, body, outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (group_id, id) DO NOTHING",
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
}
