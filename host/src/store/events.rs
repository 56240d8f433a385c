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
    /// The version that ran (its content hash); null for invocations
    /// recorded before versions were kept.
    pub sha256: Option<String>,
    /// The effects it asked for, as committed with the event (none when it
    /// failed: its effects were discarded). For replays and audits.
    #[schema(value_type = Vec<Object>)]
    pub effects: Vec<Effect>,
}

/// A processed event as recorded: what came in (or what the host made:
/// a timer firing, an enable, a review) and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RecordedEvent {
    /// The event's id, unique in its group.
    pub id: String,
    /// What kind of event: message, reaction, payment, join_requested,
    /// challenge_answer, member_left, operator_add, operator_remove,
    /// review, timer or enabled.
    pub kind: String,
    /// The event as sent by the adapter, or as the host made it.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// The outcome returned to the sender.
    #[schema(value_type = Object)]
    pub outcome: serde_json::Value,
    /// When it was processed. Unix epoch milliseconds.
    pub received_at: Millis,
}

/// The most events (and invocations) a history holds.
pub const HISTORY_MAX: u32 = 200_000;

pub(super) fn recorded_event_from_row(row: &AnyRow) -> Result<RecordedEvent> {
    Ok(RecordedEvent {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        body: json(&row.try_get::<String, _>("body")?)?,
        outcome: json(&row.try_get::<String, _>("outcome")?)?,
        received_at: row.try_get("received_at")?,
    })
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
        sha256: row.try_get("sha256")?,
        effects: row
            .try_get::<Option<String>, _>("effects")?
            .map(|text| json(&text))
            .transpose()?
            .unwrap_or_default(),
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

    /// A group's processed events, newest first.
    pub async fn recorded_events(&self, group: &str, limit: u32) -> Result<Vec<RecordedEvent>> {
        let sql = format!(
            "SELECT id, kind, body, outcome, received_at FROM events WHERE group_id = $1 \
             ORDER BY received_at DESC, id DESC LIMIT {}",
            limit.clamp(1, MAX_LIST)
        );
        let rows = sqlx::query(&sql).bind(group).fetch_all(&self.pool).await?;
        rows.iter().map(recorded_event_from_row).collect()
    }

    /// A group's history up to `until` (epoch ms), oldest first: its events
    /// and one plugin's invocations, at most `HISTORY_MAX` of each.
    pub async fn history(
        &self,
        group: &str,
        plugin: &str,
        until: Millis,
    ) -> Result<(Vec<RecordedEvent>, Vec<Invocation>)> {
        // The order they were processed in (see migration 0014).
        let order = match self.backend {
            Backend::Postgres => "seq",
            Backend::Sqlite => "rowid",
        };
        let sql = format!(
            "SELECT id, kind, body, outcome, received_at FROM events WHERE group_id = $1 \
             AND received_at <= $2 ORDER BY {order} LIMIT {HISTORY_MAX}"
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(until)
            .fetch_all(&self.pool)
            .await?;
        let events = rows
            .iter()
            .map(recorded_event_from_row)
            .collect::<Result<_>>()?;
        let sql = format!(
            "SELECT * FROM invocations WHERE group_id = $1 AND plugin = $2 AND at <= $3 \
             ORDER BY id LIMIT {HISTORY_MAX}"
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(plugin)
            .bind(until)
            .fetch_all(&self.pool)
            .await?;
        let invocations = rows
            .iter()
            .map(invocation_from_row)
            .collect::<Result<_>>()?;
        Ok((events, invocations))
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
    // One argument per column of the row: a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_event(
        &mut self,
        id: &str,
        group: &str,
        kind: &str,
        body: &str,
        outcome: &impl serde::Serialize,
        at: Millis,
        processed_at: Millis,
    ) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO events (id, group_id, kind, body, outcome, received_at, processed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (group_id, id) DO NOTHING",
        )
        .bind(id)
        .bind(group)
        .bind(kind)
        .bind(body)
        .bind(to_json(outcome))
        .bind(at)
        .bind(processed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records invocations, many rows per statement; `processed_at` is when
    /// they ran (kith's clock: retention counts from it).
    pub async fn insert_invocations(
        &mut self,
        list: &[Invocation],
        processed_at: Millis,
    ) -> Result<()> {
        const COLUMNS: usize = 13;
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
                "INSERT INTO invocations (event_id, group_id, plugin, handler, ok, error, fuel_used, duration_us, logs, at, \
                 sha256, effects, processed_at) \
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
                    .bind(inv.at)
                    .bind(&inv.sha256)
                    .bind(to_json(&inv.effects))
                    .bind(processed_at);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}
