use super::*;
use crate::runtime::bindings::kith::plugin::messages::{Host, Outgoing};
use crate::runtime::bindings::wit;

impl HostState {
    /// Posts and direct messages per minute, counted with the buffer.
    async fn within_message_quota(&mut self) -> HostResult<Result<(), WitError>> {
        let since = self.ctx.now - 60_000;
        let sent = self
            .ctx
            .store
            .messages_sent(&self.ctx.plugin, &self.ctx.group.id, since)
            .await?;
        let buffered = self
            .own_effects()
            .iter()
            .filter(|e| matches!(e, Effect::Post { .. } | Effect::Direct { .. }))
            .count() as u32;
        let quota = self.ctx.limits.messages_per_minute;
        Ok(if sent + buffered >= quota {
            Err(err(
                ErrorCode::QuotaExceeded,
                format!("more than {quota} messages in a minute"),
            ))
        } else {
            Ok(())
        })
    }
}

impl Host for HostState {
    async fn post(&mut self, message: Outgoing) -> HostResult<Result<String, WitError>> {
        if let Err(e) = self.require(Capability::PostMessages) {
            return Ok(Err(e));
        }
        if message.text.trim().is_empty() {
            return Ok(Err(err(ErrorCode::Invalid, "a message needs text")));
        }
        if let Err(e) = check_text("message text", &message.text, MAX_TEXT) {
            return Ok(Err(e));
        }
        if let Err(e) = self.within_message_quota().await? {
            return Ok(Err(e));
        }
        let id = self.new_id("msg");
        let effect = Effect::Post {
            id: id.clone(),
            text: message.text,
            mentions: message.mentions,
            reply_to: message.reply_to,
        };
        Ok(self.push(effect).map(|()| id))
    }

    async fn direct(&mut self, member: String, text: String) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self.require(Capability::DirectMessages) {
            return Ok(Err(e));
        }
        if let Err(e) = check_text("message text", &text, MAX_TEXT) {
            return Ok(Err(e));
        }
        if let Err(e) = self.within_message_quota().await? {
            return Ok(Err(e));
        }
        if let Err(e) = self
            .member_in(&member, &[MemberStatus::Active, MemberStatus::Pending])
            .await?
        {
            return Ok(Err(e));
        }
        Ok(self.push(Effect::Direct { member, text }))
    }

    async fn delete(&mut self, id: String, reason: String) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self.require(Capability::DeleteMessages) {
            return Ok(Err(e));
        }
        // The event's own message is not stored yet: it is in the buffer.
        let buffered = self
            .effects
            .iter()
            .any(|e| matches!(e, Effect::PutMessage { message } if message.id == id));
        if !buffered
            && self
                .ctx
                .store
                .get_message(&self.ctx.group.id, &id)
                .await?
                .is_none()
        {
            return Ok(Err(err(
                ErrorCode::NotFound,
                format!("no message {id:?} in this group"),
            )));
        }
        Ok(self.push(Effect::DeleteMessage { id, reason }))
    }

    async fn recent(&mut self, limit: u32, since: Option<i64>) -> HostResult<Vec<wit::Message>> {
        self.recent_messages(limit, since, None).await
    }
}

impl HostState {
    /// `recent` and, since 0.2.0, `recent-before`: newest first, without
    /// the messages deleted so far (also by this event's earlier effects).
    pub(super) async fn recent_messages(
        &mut self,
        limit: u32,
        since: Option<i64>,
        before: Option<String>,
    ) -> HostResult<Vec<wit::Message>> {
        self.require_or_trap(Capability::ReadMembers)?;
        if before.as_deref().is_some_and(has_nul) {
            return Ok(vec![]);
        }
        let deleted: Vec<&str> = self
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::DeleteMessage { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        let messages = self
            .ctx
            .store
            .messages_before(&self.ctx.group.id, limit.min(200), since, before.as_deref())
            .await?;
        Ok(messages
            .into_iter()
            .filter(|m| !m.deleted && !deleted.contains(&m.id.as_str()))
            .map(Into::into)
            .collect())
    }
}
