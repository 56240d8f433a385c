//! Messages and reactions: kept by the host, then shown to the plugins when
//! their sender is an active member.

use super::*;

/// The message an event carries, as the group keeps it.
pub(super) fn message_of(
    b: &Batch,
    sender: &MemberId,
    text: &str,
    kind: MessageKind,
    mentions: &[MemberId],
    reply_to: &Option<String>,
    message_id: &Option<String>,
) -> Message {
    Message {
        id: message_id
            .clone()
            // From the event id: a replayed event names the same message.
            .unwrap_or_else(|| format!("m-{}", b.event_id)),
        group: b.group.id.clone(),
        sender: sender.clone(),
        kind,
        text: text.to_string(),
        mentions: mentions.to_vec(),
        reply_to: reply_to.clone(),
        links: find_links(text),
        sent_at: b.now,
        deleted: false,
    }
}

impl EventCtx<'_> {
    pub(super) async fn message(&self, b: &mut Batch, message: Message) -> Result<()> {
        let sender = &message.sender;
        super::super::groups::validate_member_id(sender)?;
        if message.text.len() > 64 * 1024 {
            return Err(ServiceError::Invalid("message text is over 64 KiB".into()));
        }
        let member = present_member(b, sender).await?;
        // A message id already taken is refused at commit (apply.rs).
        b.outcome.message_id = Some(message.id.clone());
        b.host(Effect::PutMessage {
            message: message.clone(),
        });
        b.host(Effect::Touch {
            member: sender.clone(),
            at: b.now,
        });
        if member.status == MemberStatus::Active {
            self.run_plugins(b, &PluginEvent::Message(message), None)
                .await?;
        } else {
            b.outcome.note = Some(format!(
                "sender is {}: message kept, no plugin ran",
                member.status
            ));
        }
        Ok(())
    }

    pub(super) async fn reaction(
        &self,
        b: &mut Batch,
        message_id: &str,
        member: &MemberId,
        emoji: &str,
    ) -> Result<()> {
        let gid = &b.group.id;
        super::super::groups::validate_member_id(member)?;
        let message = b.store.get_message(gid, message_id).await?.ok_or_else(|| {
            ServiceError::Unprocessable(format!("no message {message_id:?} in group {gid:?}"))
        })?;
        let reactor = present_member(b, member).await?;
        b.host(Effect::Touch {
            member: member.clone(),
            at: b.now,
        });
        if reactor.status == MemberStatus::Active {
            let reaction = Reaction {
                message_id: message_id.to_string(),
                member: member.clone(),
                author: message.sender,
                emoji: emoji.to_string(),
            };
            self.run_plugins(b, &PluginEvent::Reaction(reaction), None)
                .await?;
        }
        Ok(())
    }
}

/// A member who speaks or reacts is in the group on the platform: one the
/// host did not know yet is registered as an active member.
async fn present_member(b: &mut Batch, id: &str) -> Result<Member> {
    let stored = b.store.get_member(&b.group.id, id).await?;
    if let Some(m) = b.member(stored, id) {
        return Ok(m);
    }
    // Someone kith never admitted, speaking in the group: they joined the
    // chat outside kith. Kept as an observed member and announced to games
    // and flows like any newcomer (`announce_membership_changes`).
    let mut m = Member::new(&b.group.id, id, id);
    m.status = MemberStatus::Active;
    m.joined_at = Some(b.now);
    m.observed = true;
    b.host(Effect::PutMember { member: m.clone() });
    Ok(m)
}
