//! Committing effects: each effect becomes rows, and what the chat platform
//! must carry out becomes an outbox action for the adapter.

use super::*;
use crate::store::{Timer, Transfer, Tx};
use serde_json::json;

impl Kith {
    /// Writes one effect of the event's batch: its rows, and the outbox
    /// action the adapter must carry out, if any.
    pub(super) async fn apply(
        &self,
        tx: &mut Tx<'_>,
        group: &str,
        plugin: Option<&str>,
        effect: &Effect,
        now: Millis,
    ) -> Result<()> {
        match effect {
            Effect::PutMember { member } => tx.upsert_member(member).await?,
            Effect::PutJoinRequest { request } => tx.upsert_join_request(request).await?,
            // The event's own message: a second one with the same id is the
            // sender's mistake, and the whole event is refused.
            Effect::PutMessage { message } => {
                if !tx.insert_message(message).await? {
                    return Err(ServiceError::Conflict(format!(
                        "message {:?} already exists in group {group:?}",
                        message.id
                    )));
                }
            }
            Effect::Touch { member, at } => tx.touch_member(group, member, *at).await?,
            Effect::SetRole { member, .. }
            | Effect::SetInviter { member, .. }
            | Effect::SetPaid { member, .. }
            | Effect::Restrict { member, .. }
            | Effect::Approve { member, .. }
            | Effect::Decline { member, .. }
            | Effect::Remove { member, .. }
            | Effect::Leave { member }
            | Effect::Redirect { member, .. } => {
                self.change_member(tx, group, plugin, member, effect, now)
                    .await?
            }
            Effect::AddTag { member, tag } => tx.set_tag(group, member, tag, true).await?,
            Effect::RemoveTag { member, tag } => tx.set_tag(group, member, tag, false).await?,
            Effect::RequestRefund {
                payment_id,
                member,
                amount,
                reason,
            } => {
                let payload = json!({"payment_id": payment_id, "member": member, "amount": amount, "reason": reason});
                tx.push_outbox(group, "refund", &payload, plugin, now)
                    .await?
            }
            Effect::IssueReferralCode { member, code } => {
                tx.insert_referral_code(group, member, code, plugin, now)
                    .await?
            }
            Effect::Post { .. } | Effect::Direct { .. } | Effect::DeleteMessage { .. } => {
                apply_message(tx, group, plugin, effect, now).await?
            }
            Effect::StorageSet { key, value } => {
                tx.storage_set(owner(plugin)?, group, key, value).await?
            }
            Effect::StorageDelete { key } => tx.storage_delete(owner(plugin)?, group, key).await?,
            Effect::Transfer { .. } => apply_transfer(tx, group, plugin, effect, now).await?,
            Effect::SetTimer {
                name,
                at,
                period_ms,
                payload,
            } => {
                let timer = Timer {
                    plugin: owner(plugin)?.to_string(),
                    group: group.into(),
                    name: name.clone(),
                    due_at: *at,
                    period_ms: period_ms.map(|p| p as i64),
                    payload: payload.clone(),
                };
                tx.set_timer(&timer).await?;
            }
            Effect::CancelTimer { name } => tx.cancel_timer(owner(plugin)?, group, name).await?,
        }
        Ok(())
    }

    /// An effect on a member's row, then what follows from it (a role
    /// action, join-request records, adapter actions).
    async fn change_member(
        &self,
        tx: &mut Tx<'_>,
        group: &str,
        plugin: Option<&str>,
        member: &str,
        effect: &Effect,
        now: Millis,
    ) -> Result<()> {
        let mut row = tx.get_member_row(group, member).await?.ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("member {member:?} vanished during commit"))
        })?;
        let role_before = row.role;
        apply_to_member(&mut row, effect, now);
        tx.upsert_member(&row).await?;
        if row.role != role_before {
            push_role(tx, group, member, row.role, plugin, now).await?;
        }
        self.after_member_change(tx, group, plugin, effect, now)
            .await
    }

    /// Join-request records and adapter actions that follow a member's change.
    async fn after_member_change(
        &self,
        tx: &mut Tx<'_>,
        group: &str,
        plugin: Option<&str>,
        effect: &Effect,
        now: Millis,
    ) -> Result<()> {
        let (action, payload) = match effect {
            Effect::Approve { member, reason } => {
                tx.decide_pending_request(group, member, JoinStatus::Admitted, reason, now)
                    .await?;
                ("approve", json!({"member": member, "reason": reason}))
            }
            Effect::Decline { member, reason } => {
                tx.decide_pending_request(group, member, JoinStatus::Rejected, reason, now)
                    .await?;
                ("decline", json!({"member": member, "reason": reason}))
            }
            Effect::Redirect {
                member,
                group: to,
                reason,
            } => {
                tx.decide_pending_request(group, member, JoinStatus::Redirected, reason, now)
                    .await?;
                (
                    "redirect",
                    json!({"member": member, "to_group": to, "reason": reason}),
                )
            }
            Effect::Remove { member, reason } => {
                ("remove", json!({"member": member, "reason": reason}))
            }
            Effect::Restrict {
                member,
                until,
                reason,
            } => (
                "restrict",
                json!({"member": member, "until": until, "reason": reason}),
            ),
            _ => return Ok(()),
        };
        tx.push_outbox(group, action, &payload, plugin, now).await?;
        Ok(())
    }
}

/// Queues the `role` action: the platform gives the member the rights of
/// their new role (the operator's change or a plugin's).
pub(super) async fn push_role(
    tx: &mut Tx<'_>,
    group: &str,
    member: &str,
    role: Role,
    plugin: Option<&str>,
    now: Millis,
) -> Result<()> {
    let payload = json!({"member": member, "role": role});
    tx.push_outbox(group, "role", &payload, plugin, now).await?;
    Ok(())
}

fn owner(plugin: Option<&str>) -> Result<&str> {
    plugin.ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("a plugin-scoped effect without a plugin"))
    })
}

/// A post (kept as a message, and sent), a direct message, or a deletion.
async fn apply_message(
    tx: &mut Tx<'_>,
    group: &str,
    plugin: Option<&str>,
    effect: &Effect,
    now: Millis,
) -> Result<()> {
    let (action, payload) = match effect {
        Effect::Post {
            id,
            text,
            mentions,
            reply_to,
        } => {
            let message = Message {
                id: id.clone(),
                group: group.into(),
                sender: format!("plugin:{}", plugin.unwrap_or("kith")),
                kind: MessageKind::System,
                text: text.clone(),
                mentions: mentions.clone(),
                reply_to: reply_to.clone(),
                links: find_links(text),
                sent_at: now,
                deleted: false,
            };
            // A post's id is unique by construction (event, plugin, count).
            tx.insert_message(&message).await?;
            let payload =
                json!({"message_id": id, "text": text, "mentions": mentions, "reply_to": reply_to});
            ("post", payload)
        }
        Effect::Direct { member, text } => ("direct", json!({"member": member, "text": text})),
        Effect::DeleteMessage { id, reason } => {
            if !tx.mark_message_deleted(group, id, reason).await? {
                return Ok(());
            }
            ("delete", json!({"message_id": id, "reason": reason}))
        }
        _ => unreachable!("apply passes only message effects"),
    };
    tx.push_outbox(group, action, &payload, plugin, now).await?;
    Ok(())
}

/// A transfer between two of the group's accounts.
async fn apply_transfer(
    tx: &mut Tx<'_>,
    group: &str,
    plugin: Option<&str>,
    effect: &Effect,
    now: Millis,
) -> Result<()> {
    let Effect::Transfer {
        id,
        from,
        to,
        asset,
        amount,
        memo,
    } = effect
    else {
        unreachable!("apply passes only transfers")
    };
    let parse = |a: &str| Account::parse(a).map_err(|m| ServiceError::Internal(anyhow::anyhow!(m)));
    let (from, to) = (parse(from)?, parse(to)?);
    tx.transfer(Transfer {
        group,
        id,
        from: &from,
        to: &to,
        asset: *asset,
        amount: *amount,
        memo,
        plugin,
        at: now,
    })
    .await?;
    Ok(())
}
