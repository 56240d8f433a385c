//! Referral codes as the operator or adapter asks for them: the code a
//! member shares, the same every time (see `domain/referral.rs`).

use super::*;

/// A member's referral code.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReferralCode {
    /// The group it is valid in.
    pub group: GroupId,
    /// Whose code it is.
    pub member: MemberId,
    /// What a join request names (`referral_code`) to be attributed to them.
    pub code: String,
}

impl Kith {
    /// The member's referral code, issued on the first request. In the
    /// group's turn, so a plugin issuing one in an event cannot race it.
    ///
    /// # Errors
    /// `NotFound` for an unknown group or member, `Conflict` for a member
    /// who is not active (only active members bring friends in).
    pub async fn referral_code(&self, group: &str, member: &str) -> Result<ReferralCode> {
        self.writable_group(group).await?;
        let mut turn = self.group_turn(group).await?;
        let mut tx = turn.begin(&self.store).await?;
        let row = tx
            .get_member_row(group, member)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("member {member:?}")))?;
        if row.status != MemberStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "member {member:?} is {}: only active members have a referral code",
                row.status
            )));
        }
        // 50 random bits: a collision with another member's code is
        // refused by the key and drawn again.
        for _ in 0..4 {
            if let Some(code) = tx.referral_code_of(group, member).await? {
                tx.commit().await?;
                return Ok(ReferralCode {
                    group: group.into(),
                    member: member.into(),
                    code,
                });
            }
            let bits = u64::from_le_bytes(
                uuid::Uuid::new_v4().as_bytes()[..8]
                    .try_into()
                    .expect("8 bytes"),
            );
            let code = referral_code(bits);
            tx.insert_referral_code(group, member, &code, None, self.clock.now())
                .await?;
        }
        Err(ServiceError::Internal(anyhow::anyhow!(
            "no free referral code for {member:?} after 4 draws"
        )))
    }
}
