//! Join requests: rows, reads and writes.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

const JOIN_COLUMNS: &str =
    "id, group_id, member_id, display_name, invite_code, referrer, answer, payload, \
     status, reason, redirect_to, pending_plugin, requested_at, decided_at";

pub(super) fn join_request_from_row(row: &AnyRow) -> Result<JoinRequest> {
    Ok(JoinRequest {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        member: row.try_get("member_id")?,
        display_name: row.try_get("display_name")?,
        invite_code: row.try_get("invite_code")?,
        referrer: row.try_get("referrer")?,
        answer: row.try_get("answer")?,
        payload: json(&row.try_get::<String, _>("payload")?)?,
        status: parse(&row.try_get::<String, _>("status")?)?,
        reason: row.try_get("reason")?,
        redirect_to: row.try_get("redirect_to")?,
        pending_plugin: row.try_get("pending_plugin")?,
        requested_at: row.try_get("requested_at")?,
        decided_at: row.try_get("decided_at")?,
    })
}

impl Store {
    /// A join request by id.
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

    /// The member's open join request as an event sees it: the one its
    /// buffered `effects` last wrote (if still pending), else the stored one.
    pub async fn pending_join_request_seen(
        &self,
        group: &str,
        member: &str,
        effects: &[Effect],
    ) -> Result<Option<JoinRequest>> {
        match overlay_join_request(member, effects) {
            Some(r) => Ok((r.status == JoinStatus::Pending).then(|| r.clone())),
            None => self.pending_join_request(group, member).await,
        }
    }

    /// A group's join requests, oldest first, optionally in one status.
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
}

impl Tx<'_> {
    /// Records a join request, or its decision if it exists.
    pub async fn upsert_join_request(&mut self, r: &JoinRequest) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO join_requests ({JOIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO UPDATE SET answer = $7, status = $9, reason = $10, redirect_to = $11, \
             pending_plugin = $12, decided_at = $14"
        ))
        .bind(&r.id)
        .bind(&r.group)
        .bind(&r.member)
        .bind(&r.display_name)
        .bind(&r.invite_code)
        .bind(&r.referrer)
        .bind(&r.answer)
        .bind(to_json(&r.payload))
        .bind(r.status.as_str())
        .bind(&r.reason)
        .bind(&r.redirect_to)
        .bind(&r.pending_plugin)
        .bind(r.requested_at)
        .bind(r.decided_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Closes the member's pending join request with a decision.
    pub async fn decide_pending_request(
        &mut self,
        group: &str,
        member: &str,
        status: JoinStatus,
        reason: &str,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE join_requests SET status = $3, reason = $4, decided_at = $5 \
             WHERE group_id = $1 AND member_id = $2 AND status = 'pending'",
        )
        .bind(group)
        .bind(member)
        .bind(status.as_str())
        .bind(reason)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
