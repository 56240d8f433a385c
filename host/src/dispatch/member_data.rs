//! Data requests: a member's data exported, or erased, in one group or in
//! every group the caller may see.

use super::*;
use crate::store::{Erasure, MemberData};

/// Everything kith holds about one member.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MemberExport {
    /// The member id asked for.
    pub member: MemberId,
    /// When the export was made. Unix epoch milliseconds.
    pub exported_at: Millis,
    /// One entry per group with data about the member, by group id.
    pub groups: Vec<MemberData>,
}

/// What an erasure changed, group by group.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// When the erasure was made. Unix epoch milliseconds.
    pub erased_at: Millis,
    /// One entry per group erased, by group id.
    pub groups: Vec<Erasure>,
}

impl Kith {
    /// The groups a data request covers: `group` (which must exist), or
    /// every group naming the member that `allowed` lets the caller see.
    async fn request_groups(
        &self,
        group: Option<&str>,
        member: &str,
        allowed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<GroupId>> {
        match group {
            Some(g) => {
                self.store.get_group(g).await?;
                Ok(vec![g.to_string()])
            }
            None => Ok(self
                .store
                .groups_naming_member(member)
                .await?
                .into_iter()
                .filter(|g| allowed(g))
                .collect()),
        }
    }

    /// Exports what kith holds about `member` in `group`, or (with `None`)
    /// in every group `allowed` lets the caller see.
    ///
    /// # Errors
    /// `NotFound` for a group that does not exist.
    pub async fn export_member(
        &self,
        group: Option<&str>,
        member: &str,
        allowed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<MemberExport> {
        let mut groups = vec![];
        for g in self.request_groups(group, member, allowed).await? {
            groups.push(self.store.member_data(&g, member).await?);
        }
        Ok(MemberExport {
            member: member.to_string(),
            exported_at: self.clock.now(),
            groups,
        })
    }

    /// Erases `member` from `group`, or (with `None`) from every group
    /// `allowed` lets the caller see: see `Tx::erase_member`. Each group is
    /// erased in its turn, in one transaction with an audit entry
    /// (`member.erase`, whose subject is the anonymous id, not the member's).
    ///
    /// # Errors
    /// `NotFound` for a group that does not exist.
    pub async fn erase_member(
        &self,
        actor: &Actor,
        group: Option<&str>,
        member: &str,
        allowed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<ErasureReport> {
        let mut erased = vec![];
        for g in self.request_groups(group, member, allowed).await? {
            let anonymous = format!(
                "erased-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let mut turn = self.group_turn(&g).await?;
            let mut tx = turn.begin(&self.store).await?;
            let e = tx.erase_member(&g, member, &anonymous).await?;
            let detail = serde_json::to_value(&e).expect("serializable");
            tx.audit(
                &g,
                actor,
                "member.erase",
                &anonymous,
                &detail,
                self.clock.now(),
            )
            .await?;
            tx.commit().await?;
            tracing::info!(group = %g, "a member's data was erased, as {anonymous}");
            erased.push(e);
        }
        Ok(ErasureReport {
            erased_at: self.clock.now(),
            groups: erased,
        })
    }
}
