//! Shadow runs: what a candidate version enabled in shadow asked for on
//! each live event, beside what the live version did. Never applied.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

/// One event as the shadow version and the live one handled it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ShadowRun {
    /// The live event.
    pub event_id: String,
    /// The shadow version's content hash.
    pub sha256: String,
    /// The handler, e.g. `on-message`.
    pub handler: String,
    /// What the live version asked for (and got).
    #[schema(value_type = Vec<Object>)]
    pub live: Vec<Effect>,
    /// What the shadow version asked for (discarded).
    #[schema(value_type = Vec<Object>)]
    pub shadow: Vec<Effect>,
    /// Why the live version failed, if it did.
    pub live_error: Option<String>,
    /// Why the shadow version failed, if it did.
    pub shadow_error: Option<String>,
    /// Whether they differ (effects, or one failing and not the other).
    pub differs: bool,
    /// The event's time. Unix epoch milliseconds.
    pub at: Millis,
}

fn shadow_run_from_row(row: &AnyRow) -> Result<ShadowRun> {
    Ok(ShadowRun {
        event_id: row.try_get("event_id")?,
        sha256: row.try_get("sha256")?,
        handler: row.try_get("handler")?,
        live: json(&row.try_get::<String, _>("live_effects")?)?,
        shadow: json(&row.try_get::<String, _>("shadow_effects")?)?,
        live_error: row.try_get("live_error")?,
        shadow_error: row.try_get("shadow_error")?,
        differs: row.try_get::<i64, _>("differs")? != 0,
        at: row.try_get("at")?,
    })
}

impl Store {
    /// A shadow version's runs on a group (since it was last put in
    /// shadow there): how many, how many differ, and the latest differing
    /// ones, newest first.
    pub async fn shadow_runs(
        &self,
        group: &str,
        plugin: &str,
        sha256: &str,
        limit: u32,
    ) -> Result<(i64, i64, Vec<ShadowRun>)> {
        let (runs, differing): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(differs), 0) AS BIGINT) FROM shadow_runs \
             WHERE group_id = $1 AND plugin = $2 AND sha256 = $3",
        )
        .bind(group)
        .bind(plugin)
        .bind(sha256)
        .fetch_one(&self.pool)
        .await?;
        let sql = format!(
            "SELECT * FROM shadow_runs WHERE group_id = $1 AND plugin = $2 AND sha256 = $3 \
             AND differs = 1 ORDER BY id DESC LIMIT {}",
            limit.min(MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(plugin)
            .bind(sha256)
            .fetch_all(&self.pool)
            .await?;
        let diffs = rows
            .iter()
            .map(shadow_run_from_row)
            .collect::<Result<_>>()?;
        Ok((runs, differing, diffs))
    }
}

impl Tx<'_> {
    /// Forgets a version's earlier shadow runs on a group: a new shadow
    /// run compares from scratch.
    pub async fn clear_shadow_runs(
        &mut self,
        group: &str,
        plugin: &str,
        sha256: &str,
    ) -> Result<()> {
        sqlx::query("DELETE FROM shadow_runs WHERE group_id = $1 AND plugin = $2 AND sha256 = $3")
            .bind(group)
            .bind(plugin)
            .bind(sha256)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records an event's shadow runs with the event; `processed_at` is
    /// when they ran (kith's clock: retention counts from it).
    pub async fn insert_shadow_runs(
        &mut self,
        group: &str,
        plugin_runs: &[(String, ShadowRun)],
        processed_at: Millis,
    ) -> Result<()> {
        for (plugin, run) in plugin_runs {
            sqlx::query(
                "INSERT INTO shadow_runs (group_id, plugin, event_id, sha256, handler, live_effects, \
                 shadow_effects, live_error, shadow_error, differs, at, processed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(group)
            .bind(plugin)
            .bind(&run.event_id)
            .bind(&run.sha256)
            .bind(&run.handler)
            .bind(to_json(&run.live))
            .bind(to_json(&run.shadow))
            .bind(&run.live_error)
            .bind(&run.shadow_error)
            .bind(run.differs as i64)
            .bind(run.at)
            .bind(processed_at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}
