//! Retention: deleting old processing records in small batches, and the
//! size of the database (`kith serve` logs it; see `crate::retention`).

use super::*;
use sqlx::Row;

/// A kind of record that retention deletes once it is older than its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prunable {
    /// Processed events (`events`): the idempotency record and the body,
    /// by when they were processed (not their own, possibly old, time).
    Events,
    /// Plugin invocations with their logs and effects (`invocations`).
    Invocations,
    /// What versions in shadow did (`shadow_runs`), by when they ran.
    ShadowRuns,
    /// Outbox actions an adapter acknowledged, by `acked_at`.
    AckedOutbox,
    /// Outbox actions set aside as dead and never acknowledged, by `dead_at`.
    DeadOutbox,
    /// Messages, by `sent_at` (off unless configured: plugins read recent
    /// messages, and a member's export lists theirs).
    Messages,
}

impl Prunable {
    /// Every kind, in the order a pruning pass takes them.
    pub const ALL: [Prunable; 6] = [
        Prunable::AckedOutbox,
        Prunable::DeadOutbox,
        Prunable::Invocations,
        Prunable::ShadowRuns,
        Prunable::Events,
        Prunable::Messages,
    ];

    /// The kind's name in logs and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Prunable::Events => "events",
            Prunable::Invocations => "invocations",
            Prunable::ShadowRuns => "shadow runs",
            Prunable::AckedOutbox => "acked outbox actions",
            Prunable::DeadOutbox => "dead outbox actions",
            Prunable::Messages => "messages",
        }
    }

    /// One batch: at most `limit` rows older than `before`, by key, so that
    /// the statement is the same on both databases and idempotent when
    /// several processes prune one Postgres.
    fn delete_sql(self, limit: u32) -> String {
        match self {
            Prunable::Events => format!(
                "DELETE FROM events WHERE (group_id, id) IN \
                 (SELECT group_id, id FROM events WHERE processed_at < $1 \
                 OR (processed_at IS NULL AND received_at < $1) LIMIT {limit})"
            ),
            Prunable::Invocations => format!(
                "DELETE FROM invocations WHERE id IN (SELECT id FROM invocations \
                 WHERE processed_at < $1 OR (processed_at IS NULL AND at < $1) LIMIT {limit})"
            ),
            Prunable::ShadowRuns => format!(
                "DELETE FROM shadow_runs WHERE id IN (SELECT id FROM shadow_runs \
                 WHERE processed_at < $1 OR (processed_at IS NULL AND at < $1) LIMIT {limit})"
            ),
            // `acked_at < $1` is never true of a pending (NULL) action.
            Prunable::AckedOutbox => format!(
                "DELETE FROM outbox WHERE id IN \
                 (SELECT id FROM outbox WHERE acked_at < $1 LIMIT {limit})"
            ),
            Prunable::DeadOutbox => format!(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                 WHERE acked_at IS NULL AND dead_at < $1 LIMIT {limit})"
            ),
            Prunable::Messages => format!(
                "DELETE FROM messages WHERE (group_id, id) IN \
                 (SELECT group_id, id FROM messages WHERE sent_at < $1 LIMIT {limit})"
            ),
        }
    }
}

/// The tables whose row counts `database_stats` reports: the ones that grow.
pub const COUNTED_TABLES: [&str; 5] = [
    "events",
    "invocations",
    "outbox",
    "messages",
    "ledger_entries",
];

/// How big the database is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DatabaseStats {
    /// Bytes on disk: SQLite's file and its WAL; Postgres'
    /// `pg_database_size`.
    pub bytes: u64,
    /// Rows of each of `COUNTED_TABLES`: exact on SQLite, Postgres'
    /// planner estimate (`pg_class.reltuples`, kept by autovacuum and
    /// ANALYZE) there, which costs nothing on a large table.
    pub rows: Vec<(String, u64)>,
}

impl Store {
    /// Deletes one batch of at most `limit` rows of `what` older than
    /// `before` (epoch ms), in a transaction of its own (on SQLite, in the
    /// writer's turn, held for this one statement). Returns how many rows
    /// went: fewer than `limit` means none are left.
    pub async fn prune_batch(&self, what: Prunable, before: Millis, limit: u32) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(&what.delete_sql(limit.max(1)))
            .bind(before)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// The database's size and the row counts of its largest tables.
    pub async fn database_stats(&self) -> Result<DatabaseStats> {
        let mut rows = vec![];
        let bytes = match self.backend {
            Backend::Sqlite => {
                let file: String =
                    sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                        .fetch_one(&self.pool)
                        .await?;
                let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                for table in COUNTED_TABLES {
                    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                        .fetch_one(&self.pool)
                        .await?;
                    rows.push((table.to_string(), n.max(0) as u64));
                }
                size(&file) + size(&format!("{file}-wal"))
            }
            Backend::Postgres => {
                for table in COUNTED_TABLES {
                    let row = sqlx::query(
                        "SELECT CAST(GREATEST(reltuples, 0) AS BIGINT) AS n FROM pg_class \
                         WHERE relname = $1 AND relkind = 'r' \
                         AND relnamespace = CAST(current_schema() AS regnamespace)",
                    )
                    .bind(table)
                    .fetch_optional(&self.pool)
                    .await?;
                    let n: i64 = match row {
                        Some(row) => row.try_get("n")?,
                        None => 0,
                    };
                    rows.push((table.to_string(), n.max(0) as u64));
                }
                let n: i64 = sqlx::query_scalar(
                    "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
                )
                .fetch_one(&self.pool)
                .await?;
                n.max(0) as u64
            }
        };
        Ok(DatabaseStats { bytes, rows })
    }

    /// Exact row counts of `COUNTED_TABLES` (a full count: for tests and
    /// small databases).
    pub async fn row_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut rows = vec![];
        for table in COUNTED_TABLES {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await?;
            rows.push((table.to_string(), n.max(0) as u64));
        }
        Ok(rows)
    }
}
