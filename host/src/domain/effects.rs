//! Effects: what a plugin invocation asks the host to do. They are buffered
//! during the invocation and committed together, or not at all.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    SetRole {
        member: MemberId,
        role: Role,
    },
    AddTag {
        member: MemberId,
        tag: String,
    },
    RemoveTag {
        member: MemberId,
        tag: String,
    },
    SetInviter {
        member: MemberId,
        inviter: MemberId,
    },
    SetPaid {
        member: MemberId,
        tier: Option<String>,
        until: Option<Millis>,
    },
    Approve {
        member: MemberId,
        reason: String,
    },
    Decline {
        member: MemberId,
        reason: String,
    },
    Remove {
        member: MemberId,
        reason: String,
    },
    Restrict {
        member: MemberId,
        until: Millis,
        reason: String,
    },
    Post {
        id: String,
        text: String,
        mentions: Vec<MemberId>,
        reply_to: Option<String>,
    },
    Direct {
        member: MemberId,
        text: String,
    },
    DeleteMessage {
        id: String,
        reason: String,
    },
    StorageSet {
        key: String,
        value: Vec<u8>,
    },
    StorageDelete {
        key: String,
    },
    Transfer {
        id: String,
        from: String,
        to: String,
        asset: Asset,
        amount: i64,
        memo: String,
    },
    SetTimer {
        name: String,
        at: Millis,
        period_ms: Option<u64>,
        payload: String,
    },
    CancelTimer {
        name: String,
    },
    // Host-only effects, for what an event itself changes: plugins of the
    // same event read them through the same overlay as their own writes.
    /// Writes a member's row (not tags or points).
    PutMember {
        member: Member,
    },
    PutJoinRequest {
        request: JoinRequest,
    },
    PutMessage {
        message: Message,
    },
    /// Marks a member active now (message or reaction).
    Touch {
        member: MemberId,
        at: Millis,
    },
    Leave {
        member: MemberId,
    },
    Redirect {
        member: MemberId,
        group: GroupId,
        reason: String,
    },
}

/// An action for the chat adapter to carry out on the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxAction {
    /// Increasing id; use it with `after` for paging and to acknowledge.
    pub id: i64,
    pub group: GroupId,
    /// What to do on the platform: post, direct, delete, approve, decline,
    /// remove, restrict, redirect or role.
    pub action: String,
    /// Depends on `action`: post {message_id, text, mentions, reply_to};
    /// direct {member, text}; delete {message_id, reason}; approve, decline,
    /// remove {member, reason}; restrict {member, until (Unix epoch
    /// milliseconds), reason}; redirect {member, to_group, reason}; role
    /// {member, role} (the member's new role: owner, admin, core, partner,
    /// vip or member).
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
    LogLevel { Trace = "trace", Debug = "debug", Info = "info", Warn = "warn", Error = "error" }
);

/// A log line written by a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    pub level: LogLevel,
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
        Effect::AddTag { member: id, tag } if *id == member.id => {
            if !member.tags.contains(tag) {
                member.tags.push(tag.clone());
                member.tags.sort();
            }
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
        Effect::Decline { member: id, .. }
        | Effect::Leave { member: id }
        | Effect::Redirect { member: id, .. }
            if *id == member.id =>
        {
            member.status = MemberStatus::Left
        }
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
    effects
        .iter()
        .map(|e| match e {
            Effect::Transfer {
                from,
                to,
                asset: a,
                amount,
                ..
            } if *a == asset => {
                (if to == account { *amount } else { 0 })
                    - (if from == account { *amount } else { 0 })
            }
            _ => 0,
        })
        .sum()
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
