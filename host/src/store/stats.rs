//! Activity counts for the console's charts and overview: how many rows of
//! a kind fall into each time bucket. Buckets are fixed lengths of time
//! from a start; the service puts them into the group's local days.

use super::*;
use sqlx::Row;

/// What is counted per bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Members' messages (plugin posts excluded), by when they were sent.
    Messages,
    /// Members who joined (active, or since left or removed), by `joined_at`.
    Joins,
    /// Members who left or were removed, from the recorded `member_left`
    /// and `operator_remove` events (retention may have pruned old ones).
    Leaves,
    /// Check-ins: points transfers to a member made by a `daily-checkin`
    /// plugin (any of its language twins), one per transfer.
    CheckIns,
}

impl Activity {
    /// The count and the time column, from which table, for which rows.
    /// `$1` is the group, `$2` the start, `$3` the bucket length, `$4` the end.
    fn sql(self) -> &'static str {
        match self {
            Activity::Messages => {
                "SELECT (sent_at - $2) / $3 AS bucket, COUNT(*) AS n FROM messages \
                 WHERE group_id = $1 AND sent_at >= $2 AND sent_at < $4 \
                 AND sender NOT LIKE 'plugin:%' GROUP BY bucket"
            }
            Activity::Joins => {
                "SELECT (joined_at - $2) / $3 AS bucket, COUNT(*) AS n FROM members \
                 WHERE group_id = $1 AND joined_at >= $2 AND joined_at < $4 \
                 AND status IN ('active', 'left', 'removed') GROUP BY bucket"
            }
            Activity::Leaves => {
                "SELECT (received_at - $2) / $3 AS bucket, COUNT(*) AS n FROM events \
                 WHERE group_id = $1 AND received_at >= $2 AND received_at < $4 \
                 AND kind IN ('member_left', 'operator_remove') GROUP BY bucket"
            }
            Activity::CheckIns => {
                "SELECT (at - $2) / $3 AS bucket, COUNT(DISTINCT transfer_id) AS n \
                 FROM ledger_entries WHERE group_id = $1 AND at >= $2 AND at < $4 \
                 AND plugin LIKE 'daily-checkin%' AND account LIKE 'member:%' \
                 AND asset = 'points' AND amount > 0 GROUP BY bucket"
            }
        }
    }
}

/// Members of a group at each stage of the funnel, now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FunnelCounts {
    /// Active members.
    pub joined: i64,
    /// Of them, those who spoke or reacted since the given time.
    pub active: i64,
    /// Of the members, those with a paid tier that has not run out.
    pub paid: i64,
    /// Of the members, those with the `vip` role, tag or paid tier.
    pub vip: i64,
}

impl Store {
    /// `(bucket, count)` for the buckets of `bucket_ms` from `start` (bucket
    /// 0) up to `end` that hold anything; the others are zero.
    pub async fn activity_buckets(
        &self,
        group: &str,
        what: Activity,
        start: Millis,
        end: Millis,
        bucket_ms: i64,
    ) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(what.sql())
            .bind(group)
            .bind(start)
            .bind(bucket_ms.max(1))
            .bind(end)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("bucket")?, r.try_get::<i64, _>("n")?)))
            .collect()
    }

    /// The funnel of a group's active members: active since `since`, paid
    /// at `now`.
    pub async fn funnel(&self, group: &str, since: Millis, now: Millis) -> Result<FunnelCounts> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS joined, \
             CAST(COALESCE(SUM(CASE WHEN last_active_at >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS active, \
             CAST(COALESCE(SUM(CASE WHEN paid_tier IS NOT NULL \
                 AND (paid_until IS NULL OR paid_until > $3) THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid, \
             CAST(COALESCE(SUM(CASE WHEN role = 'vip' OR LOWER(COALESCE(paid_tier, '')) = 'vip' \
                 OR EXISTS (SELECT 1 FROM member_tags t WHERE t.group_id = m.group_id \
                     AND t.member_id = m.member_id AND t.tag = 'vip') \
                 THEN 1 ELSE 0 END), 0) AS BIGINT) AS vip \
             FROM members m WHERE m.group_id = $1 AND m.status = 'active'",
        )
        .bind(group)
        .bind(since)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(FunnelCounts {
            joined: row.try_get("joined")?,
            active: row.try_get("active")?,
            paid: row.try_get("paid")?,
            vip: row.try_get("vip")?,
        })
    }
}
