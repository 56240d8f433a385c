//! Referral codes: the one personal code each member has per group, which a
//! join request names to attribute the new member to them.

use super::*;

impl Store {
    /// The member's code in the group, if one was issued.
    pub async fn referral_code_of(&self, group: &str, member: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT code FROM referral_codes WHERE group_id = $1 AND member_id = $2",
        )
        .bind(group)
        .bind(member)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The codes issued through the API (not by a plugin in an event), as
    /// (member, code, issued at): what a replay copies.
    pub async fn api_referral_codes(&self, group: &str) -> Result<Vec<(MemberId, String, Millis)>> {
        Ok(sqlx::query_as(
            "SELECT member_id, code, issued_at FROM referral_codes WHERE group_id = $1 AND plugin IS NULL",
        )
        .bind(group)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whose code it is, if the group issued it.
    pub async fn referral_code_owner(&self, group: &str, code: &str) -> Result<Option<MemberId>> {
        Ok(sqlx::query_scalar(
            "SELECT member_id FROM referral_codes WHERE group_id = $1 AND code = $2",
        )
        .bind(group)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?)
    }
}

impl Tx<'_> {
    /// Records a member's code, issued by `plugin` in an event or (None)
    /// through the API; the member's code issued first stays (a member has
    /// one code, whoever asked for it first).
    pub async fn insert_referral_code(
        &mut self,
        group: &str,
        member: &str,
        code: &str,
        plugin: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO referral_codes (group_id, code, member_id, issued_at, plugin) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(group)
        .bind(code)
        .bind(member)
        .bind(now)
        .bind(plugin)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The member's code in the group, read in this transaction (after
    /// [`Tx::insert_referral_code`], the one that stayed).
    pub async fn referral_code_of(&mut self, group: &str, member: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT code FROM referral_codes WHERE group_id = $1 AND member_id = $2",
        )
        .bind(group)
        .bind(member)
        .fetch_optional(&mut *self.tx)
        .await?)
    }
}
