//! Members leaving, and the announcements of members who joined or left
//! through an event.

use super::*;

impl EventCtx<'_> {
    pub(super) async fn member_left(&self, b: &mut Batch, member: &MemberId) -> Result<()> {
        let gid = &b.group.id;
        let stored = b.store.get_member(gid, member).await?;
        match b.member(stored, member) {
            Some(m) if m.status == MemberStatus::Active => {
                b.host(Effect::Leave {
                    member: member.clone(),
                });
                Ok(())
            }
            _ => Err(ServiceError::Unprocessable(format!(
                "{member:?} is not an active member of {gid:?}"
            ))),
        }
    }

    /// The operator removes a member: like leaving, but the member is
    /// `removed` and the adapter gets a `remove` action.
    pub(super) async fn removed(&self, b: &mut Batch, member: &str, reason: String) -> Result<()> {
        let stored = b.store.get_member(&b.group.id, member).await?;
        match b.member(stored, member) {
            Some(m) if m.status == MemberStatus::Active => {
                b.host(Effect::Remove {
                    member: member.to_string(),
                    reason,
                });
                Ok(())
            }
            _ => Err(ServiceError::Unprocessable(format!(
                "{member:?} is not an active member of {:?}",
                b.group.id
            ))),
        }
    }

    /// After the event's own handlers: members who joined or left through
    /// this event are announced to games and flows. Bounded in depth.
    pub(super) async fn announce_membership_changes(&self, b: &mut Batch) -> Result<()> {
        let mut seen = 0;
        for _round in 0..3 {
            let fresh: Vec<Effect> = b.effects[seen..].iter().map(|(_, e)| e.clone()).collect();
            seen = b.effects.len();
            if fresh.is_empty() {
                break;
            }
            for effect in fresh {
                let (id, joined) = match &effect {
                    Effect::Approve { member, .. } => (member, true),
                    Effect::PutMember { member } if member.observed => (&member.id, true),
                    Effect::Leave { member } | Effect::Remove { member, .. } => (member, false),
                    _ => continue,
                };
                let stored = b.store.get_member(&b.group.id, id).await?;
                let Some(member) = b.member(stored, id) else {
                    continue;
                };
                let event = if joined {
                    PluginEvent::MemberJoined(member)
                } else {
                    PluginEvent::MemberLeft(member)
                };
                self.run_plugins(b, &event, None).await?;
            }
        }
        Ok(())
    }
}
