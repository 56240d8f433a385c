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
    /// Records a member's code; the member's code issued first stays (a
    /// member has one code, whoever asked for it first).
    pub async fn insert_referral_code(
        &mut self,
        group: &str,
        member: &str,
        code: &str,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO referral_codes (group_id, code, member_id, issued_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(group)
        .bind(code)
        .bind(member)
        .bind(now)
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
