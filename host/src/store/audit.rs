//! The audit log: who changed what on a group. Entries are only inserted,
//! in the transaction of the change they record.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) fn audit_from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        token_id: row.try_get("token_id")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        detail: json(&row.try_get::<String, _>("detail")?)?,
    })
}

impl Store {
    /// A group's audit log, newest first; with `before`, only older entries
    /// (for paging).
    pub async fn audit_log(
        &self,
        group: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT * FROM audit_log WHERE group_id = $1 AND id < $2 ORDER BY id DESC LIMIT {}",
            limit.clamp(1, MAX_LIST)
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(before.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }
}

impl Tx<'_> {
    /// Appends an entry to a group's audit log.
    pub async fn audit(
        &mut self,
        group: &str,
        actor: &Actor,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (group_id, at, actor, token_id, action, subject, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(group)
        .bind(at)
        .bind(actor.label())
        .bind(actor.token_id())
        .bind(action)
        .bind(subject)
        .bind(to_json(detail))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
