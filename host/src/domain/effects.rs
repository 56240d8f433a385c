//! Effects: what a plugin invocation asks the host to do. They are buffered
//! during the invocation and committed together, or not at all.

use super::*;

/// One change an invocation asks for (or an event makes), buffered until the
/// handler returns and then committed in the event's transaction. Serialized
/// with an `effect` tag in snake_case, as the dispatch log records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Give a member another role.
    SetRole {
        /// The member whose role changes.
        member: MemberId,
        /// The new role.
        role: Role,
    },
    /// Add a tag to a member (a no-op if they already have it).
    AddTag {
        /// The member tagged.
        member: MemberId,
        /// The tag, free text chosen by the plugin.
        tag: String,
    },
    /// Remove a tag from a member.
    RemoveTag {
        /// The member untagged.
        member: MemberId,
        /// The tag to remove.
        tag: String,
    },
    /// Record who brought a member in.
    SetInviter {
        /// The member referred.
        member: MemberId,
        /// The member who referred them.
        inviter: MemberId,
    },
    /// Record a member's paid tier and when it ends.
    SetPaid {
        /// The member who paid.
        member: MemberId,
        /// The tier name; `None` clears it.
        tier: Option<String>,
        /// End of the paid period (Unix epoch milliseconds); `None` for no end.
        until: Option<Millis>,
    },
    /// Admit a pending applicant: the member becomes active.
    Approve {
        /// The applicant.
        member: MemberId,
        /// Why, as shown to the operator and passed to the adapter.
        reason: String,
    },
    /// Refuse a pending applicant: the member is marked left.
    Decline {
        /// The applicant.
        member: MemberId,
        /// Why, as passed to the adapter.
        reason: String,
    },
    /// Remove an active member from the group.
    Remove {
        /// The member removed.
        member: MemberId,
        /// Why, as passed to the adapter.
        reason: String,
    },
    /// Mute a member until a time.
    Restrict {
        /// The member muted.
        member: MemberId,
        /// End of the restriction, Unix epoch milliseconds.
        until: Millis,
        /// Why, as passed to the adapter.
        reason: String,
    },
    /// Post a message in the group (through the adapter's outbox).
    Post {
        /// The id given to the new message.
        id: String,
        /// The message text.
        text: String,
        /// Members to @mention.
        mentions: Vec<MemberId>,
        /// Id of the message replied to.
        reply_to: Option<String>,
    },
    /// Send a private message to a member.
    Direct {
        /// The recipient.
        member: MemberId,
        /// The message text.
        text: String,
    },
    /// Ask the adapter to refund (part of) a real payment. No money moves
    /// yet: it leaves the ledger when the adapter reports the refund (a
    /// `refunded` payment with the same id).
    RequestRefund {
        /// The payment to refund, as the adapter reported it.
        payment_id: String,
        /// The member who paid.
        member: MemberId,
        /// How much to refund, in integer minor units.
        amount: i64,
        /// Why, as passed to the adapter.
        reason: String,
    },
    /// Issue a member's referral code (`members.referral-code`): the first
    /// time it is asked for; afterwards the stored one is returned.
    IssueReferralCode {
        /// The member whose code it is.
        member: MemberId,
        /// The code, drawn from the event's seed.
        code: String,
    },
    /// Delete a message of the group.
    DeleteMessage {
        /// Id of the message deleted.
        id: String,
        /// Why, as passed to the adapter.
        reason: String,
    },
    /// Write a key in the plugin's storage for the group.
    StorageSet {
        /// The key.
        key: String,
        /// The value, opaque bytes.
        value: Vec<u8>,
    },
    /// Delete a key from the plugin's storage for the group.
    StorageDelete {
        /// The key.
        key: String,
    },
    /// Move an amount between two ledger accounts of the group.
    Transfer {
        /// The transfer id returned to the plugin.
        id: String,
        /// Account debited (`member:<id>`, `group`, `escrow:<name>`, `issuer`, `external`).
        from: String,
        /// Account credited.
        to: String,
        /// Points or money.
        asset: Asset,
        /// Amount moved, > 0, in integer minor units.
        amount: i64,
        /// Free text recorded on both ledger entries.
        memo: String,
    },
    /// Set (or replace) a timer of the plugin for the group.
    SetTimer {
        /// Timer name, unique per plugin and group.
        name: String,
        /// When it first fires, Unix epoch milliseconds.
        at: Millis,
        /// For a recurring timer, the period in milliseconds (>= 1000).
        period_ms: Option<u64>,
        /// Passed to the plugin's `on-timer` handler.
        payload: String,
    },
    /// Cancel a timer of the plugin for the group.
    CancelTimer {
        /// Timer name.
        name: String,
    },
    // Host-only effects, for what an event itself changes: plugins of the
    // same event read them through the same overlay as their own writes.
    /// Writes a member's row (not tags or points).
    PutMember {
        /// The member as it should be stored.
        member: Member,
    },
    /// Stores a join request, new or decided.
    PutJoinRequest {
        /// The request as it should be stored.
        request: JoinRequest,
    },
    /// Stores a message received from the platform.
    PutMessage {
        /// The message as it should be stored.
        message: Message,
    },
    /// Marks a member active now (message or reaction).
    Touch {
        /// The member who spoke or reacted.
        member: MemberId,
        /// When, Unix epoch milliseconds.
        at: Millis,
    },
    /// Marks a member as having left the group (a leave event).
    Leave {
        /// The member who left.
        member: MemberId,
    },
    /// Sends an applicant to another group: the member is marked left here.
    Redirect {
        /// The applicant.
        member: MemberId,
        /// The group they are sent to.
        group: GroupId,
        /// Why, as passed to the adapter.
        reason: String,
    },
}

/// An action for the chat adapter to carry out on the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxAction {
    /// Increasing id; use it with `after` for paging and to acknowledge.
    pub id: i64,
    /// The group the action is for.
    pub group: GroupId,
    /// What to do on the platform: post, direct, delete, approve, decline,
    /// remove, restrict, redirect, role, or operator-alert (tell the
    /// group's owner and admins that something needs them).
    pub action: String,
    /// Depends on `action`: post {message_id, text, mentions, reply_to};
    /// direct {member, text}; delete {message_id, reason}; approve, decline,
    /// remove {member, reason}; restrict {member, until (Unix epoch
    /// milliseconds), reason}; redirect {member, to_group, reason}; role
    /// {member, role} (the member's new role: owner, admin, core, partner,
    /// vip or member); operator-alert {kind, plugin, text, to (the owner's
    /// and admins' ids)}.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When the action was queued. Unix epoch milliseconds.
    pub created_at: Millis,
    /// The plugin that caused it; null for the host.
    pub plugin: Option<String>,
    /// How many times it was leased to a worker (`POST /v1/outbox/lease`).
    #[serde(default)]
    pub attempts: i64,
}

text_enum!(
    /// The level of a plugin log line.
    LogLevel {
        /// Step-by-step detail.
        Trace = "trace",
        /// Detail for the plugin's author.
        Debug = "debug",
        /// Normal operation.
        Info = "info",
        /// Something unexpected that the plugin handled.
        Warn = "warn",
        /// Something failed.
        Error = "error",
    }
);

/// A log line written by a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    /// How severe the line is.
    pub level: LogLevel,
    /// The text the plugin logged.
    pub message: String,
}

/// A member as an invocation sees it: the stored row (`stored`), then every
/// buffered effect replayed in order, so reads see the event's own writes.
pub fn resolve_member(
    stored: Option<Member>,
    id: &str,
    effects: &[Effect],
    now: Millis,
) -> Option<Member> {
    let mut current = stored;
    for effect in effects {
        match effect {
            Effect::PutMember { member } if member.id == id => {
                let (points, tags) = current
                    .take()
                    .map(|c| (c.points, c.tags))
                    .unwrap_or_default();
                current = Some(Member {
                    points,
                    tags,
                    ..member.clone()
                });
            }
            other => {
                if let Some(m) = current.as_mut() {
                    apply_to_member(m, other, now);
                }
            }
        }
    }
    current
}

/// One effect's change to a member, if it concerns them.
pub fn apply_to_member(member: &mut Member, effect: &Effect, now: Millis) {
    match effect {
        Effect::SetRole { member: id, role } if *id == member.id => member.role = *role,
        Effect::AddTag { member: id, tag } if *id == member.id && !member.tags.contains(tag) => {
            member.tags.push(tag.clone());
            member.tags.sort();
        }
        Effect::RemoveTag { member: id, tag } if *id == member.id => {
            member.tags.retain(|t| t != tag)
        }
        Effect::SetInviter {
            member: id,
            inviter,
        } if *id == member.id => member.inviter = Some(inviter.clone()),
        Effect::SetPaid {
            member: id,
            tier,
            until,
        } if *id == member.id => {
            member.paid_tier = tier.clone();
            member.paid_until = *until;
        }
        Effect::Approve { member: id, .. } if *id == member.id => {
            member.status = MemberStatus::Active;
            member.joined_at = Some(now);
        }
        // A refusal changes only an applicant: a removed member refused
        // again stays removed.
        Effect::Decline { member: id, .. }
            if *id == member.id && member.status == MemberStatus::Pending =>
        {
            member.status = MemberStatus::Declined
        }
        Effect::Redirect { member: id, .. }
            if *id == member.id && member.status == MemberStatus::Pending =>
        {
            member.status = MemberStatus::Redirected
        }
        Effect::Leave { member: id } if *id == member.id => member.status = MemberStatus::Left,
        Effect::Remove { member: id, .. } if *id == member.id => {
            member.status = MemberStatus::Removed
        }
        Effect::Restrict {
            member: id, until, ..
        } if *id == member.id => member.restricted_until = Some(*until),
        Effect::Touch { member: id, at } if *id == member.id => {
            member.last_active_at = Some(member.last_active_at.map_or(*at, |t| t.max(*at)))
        }
        Effect::Transfer {
            from,
            to,
            asset: Asset::Points,
            amount,
            ..
        } => {
            let account = format!("member:{}", member.id);
            if *from == account {
                member.points -= amount;
            }
            if *to == account {
                member.points += amount;
            }
        }
        _ => {}
    }
}

/// Members named by buffered effects: a list query must look at them too.
pub fn touched_members(effects: &[Effect]) -> Vec<MemberId> {
    let mut ids: Vec<MemberId> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::SetRole { member, .. }
            | Effect::AddTag { member, .. }
            | Effect::RemoveTag { member, .. }
            | Effect::SetInviter { member, .. }
            | Effect::SetPaid { member, .. }
            | Effect::Approve { member, .. }
            | Effect::Decline { member, .. }
            | Effect::Remove { member, .. }
            | Effect::Restrict { member, .. }
            | Effect::Touch { member, .. }
            | Effect::Leave { member }
            | Effect::Redirect { member, .. } => Some(member.clone()),
            Effect::PutMember { member } => Some(member.id.clone()),
            Effect::Transfer { from, to, .. } => from
                .strip_prefix("member:")
                .or(to.strip_prefix("member:"))
                .map(str::to_string),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The change buffered effects make to an account's balance.
pub fn balance_delta(account: &str, asset: Asset, effects: &[Effect]) -> i64 {
    // Saturating: amounts are bounded (`MAX_AMOUNT`), but a sum must not
    // panic whatever it is given.
    effects.iter().fold(0i64, |sum, e| match e {
        Effect::Transfer {
            from,
            to,
            asset: a,
            amount,
            ..
        } if *a == asset => {
            let inflow = if to == account { *amount } else { 0 };
            let outflow = if from == account { *amount } else { 0 };
            sum.saturating_add(inflow).saturating_sub(outflow)
        }
        _ => sum,
    })
}

/// The join request buffered effects last wrote for `member`, if any: it
/// is newer than the stored one.
pub fn overlay_join_request<'a>(member: &str, effects: &'a [Effect]) -> Option<&'a JoinRequest> {
    effects.iter().rev().find_map(|e| match e {
        Effect::PutJoinRequest { request } if request.member == member => Some(request),
        _ => None,
    })
}

/// `Some(value)` if buffered effects set (`Some`) or deleted (`None`) a key.
pub fn overlay_storage<'a>(key: &str, effects: &'a [Effect]) -> Option<Option<&'a [u8]>> {
    effects.iter().rev().find_map(|e| match e {
        Effect::StorageSet { key: k, value } if k == key => Some(Some(value.as_slice())),
        Effect::StorageDelete { key: k } if k == key => Some(None),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(from: &str, to: &str, amount: i64) -> Effect {
        Effect::Transfer {
            id: "t".into(),
            from: from.into(),
            to: to.into(),
            asset: Asset::Points,
            amount,
            memo: String::new(),
        }
    }

    #[test]
    fn member_overlay_replays_in_order() {
        let effects = vec![
            Effect::PutMember {
                member: Member::new("g", "alice", "Alice"),
            },
            Effect::Approve {
                member: "alice".into(),
                reason: "ok".into(),
            },
            Effect::AddTag {
                member: "alice".into(),
                tag: "vip".into(),
            },
            Effect::AddTag {
                member: "bob".into(),
                tag: "x".into(),
            },
            transfer("issuer", "member:alice", 30),
            transfer("member:alice", "group", 5),
            Effect::SetRole {
                member: "alice".into(),
                role: Role::Core,
            },
        ];
        let m = resolve_member(None, "alice", &effects, 42).unwrap();
        assert_eq!(m.status, MemberStatus::Active);
        assert_eq!(m.joined_at, Some(42));
        assert_eq!(m.tags, vec!["vip"]);
        assert_eq!(m.points, 25);
        assert_eq!(m.role, Role::Core);
        assert_eq!(touched_members(&effects), vec!["alice", "bob"]);
    }

    #[test]
    fn balance_and_storage_overlays_see_the_latest_write() {
        let effects = vec![
            transfer("issuer", "member:a", 10),
            transfer("member:a", "member:b", 4),
            Effect::StorageSet {
                key: "k".into(),
                value: b"1".to_vec(),
            },
            Effect::StorageDelete { key: "k".into() },
            Effect::StorageSet {
                key: "j".into(),
                value: b"2".to_vec(),
            },
        ];
        assert_eq!(balance_delta("member:a", Asset::Points, &effects), 6);
        assert_eq!(balance_delta("issuer", Asset::Points, &effects), -10);
        assert_eq!(balance_delta("member:a", Asset::Money, &effects), 0);
        assert_eq!(overlay_storage("k", &effects), Some(None));
        assert_eq!(overlay_storage("j", &effects), Some(Some(&b"2"[..])));
        assert_eq!(overlay_storage("x", &effects), None);
    }
}
