//! Members and their tags: rows, reads and writes.

use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

/// Which members `list_members` returns; `None` fields match every member.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFilter {
    /// Only members with this role.
    pub role: Option<Role>,
    /// Only members with this tag.
    pub tag: Option<String>,
    /// Only members in this status.
    pub status: Option<MemberStatus>,
    /// Members not active since this time (or never).
    pub inactive_since: Option<Millis>,
    /// How many at most; 0, or more than `MAX_LIST`, means `MAX_LIST`.
    pub limit: u32,
}

const MEMBER_COLUMNS: &str =
    "group_id, member_id, display_name, role, status, inviter, joined_at, \
     last_active_at, paid_tier, paid_until, restricted_until, observed";

const POINTS_SUBQUERY: &str = "(SELECT CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) FROM ledger_entries l \
     WHERE l.group_id = m.group_id AND l.account = 'member:' || m.member_id AND l.asset = 'points') AS points";

fn member_from_row(row: &AnyRow) -> Result<Member> {
    Ok(Member {
        id: row.try_get("member_id")?,
        group: row.try_get("group_id")?,
        display_name: row.try_get("display_name")?,
        role: parse(&row.try_get::<String, _>("role")?)?,
        status: parse(&row.try_get::<String, _>("status")?)?,
        tags: vec![],
        inviter: row.try_get("inviter")?,
        joined_at: row.try_get("joined_at")?,
        last_active_at: row.try_get("last_active_at")?,
        points: 0,
        paid_tier: row.try_get("paid_tier")?,
        paid_until: row.try_get("paid_until")?,
        restricted_until: row.try_get("restricted_until")?,
        observed: row.try_get::<i64, _>("observed")? != 0,
    })
}

impl Store {
    /// Members by status; read once per event.
    pub async fn counts(&self, group: &str) -> Result<GroupCounts> {
        if let Some(seen) = self
            .event
            .as_ref()
            .and_then(|e| e.counts.lock().expect("reads").get(group).copied())
        {
            return Ok(seen);
        }
        let rows = sqlx::query(
            "SELECT status, observed, COUNT(*) AS n FROM members WHERE group_id = $1 \
             GROUP BY status, observed",
        )
        .bind(group)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = GroupCounts::default();
        for row in rows {
            let n = row.try_get::<i64, _>("n")? as u32;
            let status = parse::<MemberStatus>(&row.try_get::<String, _>("status")?)?;
            if status == MemberStatus::Active && row.try_get::<i64, _>("observed")? != 0 {
                counts.observed += n;
            }
            *match status {
                MemberStatus::Active => &mut counts.active,
                MemberStatus::Pending => &mut counts.pending,
                MemberStatus::Left => &mut counts.left,
                MemberStatus::Removed => &mut counts.removed,
                MemberStatus::Declined => &mut counts.declined,
                MemberStatus::Redirected => &mut counts.redirected,
            } += n;
        }
        if let Some(e) = &self.event {
            e.counts
                .lock()
                .expect("reads")
                .insert(group.to_string(), counts);
        }
        Ok(counts)
    }

    /// A member with tags and points; read once per event.
    pub async fn get_member(&self, group: &str, id: &str) -> Result<Option<Member>> {
        let key = (group.to_string(), id.to_string());
        if let Some(seen) = self
            .event
            .as_ref()
            .and_then(|e| e.members.lock().expect("reads").get(&key).cloned())
        {
            return Ok(seen);
        }
        let member = self.read_member(group, id).await?;
        if let Some(e) = &self.event {
            e.members.lock().expect("reads").insert(key, member.clone());
        }
        Ok(member)
    }

    async fn read_member(&self, group: &str, id: &str) -> Result<Option<Member>> {
        // Tags in the same query, as a JSON array: one round trip per member.
        let tags = match self.backend {
            Backend::Sqlite => "json_group_array(tag)",
            Backend::Postgres => "COALESCE(json_agg(tag)::text, '[]')",
        };
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, {POINTS_SUBQUERY}, (SELECT {tags} FROM member_tags t \
             WHERE t.group_id = m.group_id AND t.member_id = m.member_id) AS tags \
             FROM members m WHERE group_id = $1 AND member_id = $2"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(group)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut member = member_from_row(&row)?;
        member.points = row.try_get("points")?;
        member.tags = json(&row.try_get::<String, _>("tags")?)?;
        member.tags.sort();
        Ok(Some(member))
    }

    /// Members matching a filter, oldest joined first.
    pub async fn list_members(&self, group: &str, filter: &MemberFilter) -> Result<Vec<Member>> {
        let mut sql = format!(
            "SELECT {MEMBER_COLUMNS}, {POINTS_SUBQUERY} FROM members m WHERE group_id = $1"
        );
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        if filter.role.is_some() {
            sql += &format!(" AND role = ${}", next());
        }
        if filter.status.is_some() {
            sql += &format!(" AND status = ${}", next());
        }
        if filter.tag.is_some() {
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM member_tags t WHERE t.group_id = m.group_id AND t.member_id = m.member_id AND t.tag = ${})",
                next()
            );
        }
        if filter.inactive_since.is_some() {
            sql += &format!(" AND COALESCE(last_active_at, joined_at, 0) < ${}", next());
        }
        let limit = if filter.limit == 0 {
            MAX_LIST
        } else {
            filter.limit.min(MAX_LIST)
        };
        sql += &format!(" ORDER BY COALESCE(joined_at, 0), member_id LIMIT {limit}");
        let mut query = sqlx::query(&sql).bind(group);
        if let Some(role) = filter.role {
            query = query.bind(role.as_str());
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(tag) = &filter.tag {
            query = query.bind(tag.clone());
        }
        if let Some(since) = filter.inactive_since {
            query = query.bind(since);
        }
        let rows = query.fetch_all(&self.pool).await?;
        self.with_tags(group, &rows).await
    }

    /// Active members whose last activity is at or after `since`, sorted
    /// by id, only ids after `after`; at most `limit` (0 = the maximum).
    pub async fn active_members_since(
        &self,
        group: &str,
        since: Millis,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Member>> {
        let limit = if limit == 0 {
            MAX_LIST
        } else {
            limit.min(MAX_LIST)
        };
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, {POINTS_SUBQUERY} FROM members m WHERE group_id = $1 \
             AND status = 'active' AND last_active_at >= $2 AND member_id > $3 \
             ORDER BY member_id LIMIT {limit}"
        );
        let rows = sqlx::query(&sql)
            .bind(group)
            .bind(since)
            .bind(after.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        self.with_tags(group, &rows).await
    }

    /// Members from rows of `MEMBER_COLUMNS` and `POINTS_SUBQUERY`, with
    /// their tags.
    async fn with_tags(&self, group: &str, rows: &[AnyRow]) -> Result<Vec<Member>> {
        let mut tags: HashMap<String, Vec<String>> = HashMap::new();
        if !rows.is_empty() {
            for row in sqlx::query(
                "SELECT member_id, tag FROM member_tags WHERE group_id = $1 ORDER BY tag",
            )
            .bind(group)
            .fetch_all(&self.pool)
            .await?
            {
                tags.entry(row.try_get("member_id")?)
                    .or_default()
                    .push(row.try_get("tag")?);
            }
        }
        rows.iter()
            .map(|row| {
                let mut m = member_from_row(row)?;
                m.points = row.try_get("points")?;
                m.tags = tags.remove(&m.id).unwrap_or_default();
                Ok(m)
            })
            .collect()
    }
}

impl Tx<'_> {
    /// Inserts or replaces a member's row (not tags or points).
    pub async fn upsert_member(&mut self, m: &Member) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO members ({MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (group_id, member_id) DO UPDATE SET display_name = $3, role = $4, status = $5, inviter = $6, \
             joined_at = $7, last_active_at = $8, paid_tier = $9, paid_until = $10, restricted_until = $11, \
             observed = $12"
        ))
        .bind(&m.group)
        .bind(&m.id)
        .bind(&m.display_name)
        .bind(m.role.as_str())
        .bind(m.status.as_str())
        .bind(&m.inviter)
        .bind(m.joined_at)
        .bind(m.last_active_at)
        .bind(&m.paid_tier)
        .bind(m.paid_until)
        .bind(m.restricted_until)
        .bind(i64::from(m.observed))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// A member's row as this transaction sees it, without tags or points.
    pub async fn get_member_row(&mut self, group: &str, id: &str) -> Result<Option<Member>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE group_id = $1 AND member_id = $2"
        ))
        .bind(group)
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// Moves a member's last activity forward (never back).
    pub async fn touch_member(&mut self, group: &str, id: &str, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE members SET last_active_at = $3 WHERE group_id = $1 AND member_id = $2 \
             AND (last_active_at IS NULL OR last_active_at < $3)",
        )
        .bind(group)
        .bind(id)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Adds (`present`) or removes a member's tag.
    pub async fn set_tag(
        &mut self,
        group: &str,
        member: &str,
        tag: &str,
        present: bool,
    ) -> Result<()> {
        let sql = if present {
            "INSERT INTO member_tags (group_id, member_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM member_tags WHERE group_id = $1 AND member_id = $2 AND tag = $3"
        };
        sqlx::query(sql)
            .bind(group)
            .bind(member)
            .bind(tag)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
