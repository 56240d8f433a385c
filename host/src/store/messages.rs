//! Messages: rows, reads and writes.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) fn message_from_row(row: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        sender: row.try_get("sender")?,
        kind: parse(&row.try_get::<String, _>("kind")?)?,
        text: row.try_get("text")?,
        mentions: json(&row.try_get::<String, _>("mentions")?)?,
        reply_to: row.try_get("reply_to")?,
        links: json(&row.try_get::<String, _>("links")?)?,
        sent_at: row.try_get("sent_at")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
    })
}

impl Store {
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

    /// A message by its id in a group.
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
        self.messages_before(group, limit, since, None).await
    }

    /// Newest first, only those older than the message `before` (by time,
    /// then id): a page after the one that ended with `before`. An id the
    /// group has no message with gives no messages.
    pub async fn messages_before(
        &self,
        group: &str,
        limit: u32,
        since: Option<Millis>,
        before: Option<&str>,
    ) -> Result<Vec<Message>> {
        // The cursor's own time and id are read in the same statement (one
        // round trip); an unknown id matches no row, so nothing comes back.
        let cursor = if before.is_some() {
            "AND (sent_at, id) < (SELECT c.sent_at, c.id FROM messages c \
             WHERE c.group_id = $1 AND c.id = $3)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT * FROM messages WHERE group_id = $1 AND sent_at >= $2 {cursor} \
             ORDER BY sent_at DESC, id DESC LIMIT {}",
            limit.min(MAX_LIST)
        );
        let mut query = sqlx::query(&sql)
            .bind(group)
            .bind(since.unwrap_or(i64::MIN));
        if let Some(before) = before {
            query = query.bind(before);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(message_from_row).collect()
    }
}

impl Tx<'_> {
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

    /// Marks a message deleted; false if it was already, or does not exist.
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
