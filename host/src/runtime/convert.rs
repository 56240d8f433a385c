//! Conversions between domain types and WIT-generated types: the only place
//! where the two meet.

use super::bindings::kith::plugin::ledger::Asset as WitAsset;
use super::bindings::wit;
use crate::domain::*;

macro_rules! same_enum {
    ($domain:ty, $wit:ty, [$($v:ident),+]) => {
        impl From<$domain> for $wit {
            fn from(x: $domain) -> Self { match x { $(<$domain>::$v => <$wit>::$v),+ } }
        }
        impl From<$wit> for $domain {
            fn from(x: $wit) -> Self { match x { $(<$wit>::$v => <$domain>::$v),+ } }
        }
    };
}

same_enum!(Role, wit::Role, [Owner, Admin, Core, Partner, Vip, Member]);
impl From<MemberStatus> for wit::MemberStatus {
    /// Contract 0.1.0 has no `declined` or `redirected`: both are applicants
    /// who are not in the group, which `left` already means to a plugin.
    fn from(x: MemberStatus) -> Self {
        match x {
            MemberStatus::Pending => wit::MemberStatus::Pending,
            MemberStatus::Active => wit::MemberStatus::Active,
            MemberStatus::Left | MemberStatus::Declined | MemberStatus::Redirected => {
                wit::MemberStatus::Left
            }
            MemberStatus::Removed => wit::MemberStatus::Removed,
        }
    }
}

impl From<wit::MemberStatus> for MemberStatus {
    fn from(x: wit::MemberStatus) -> Self {
        match x {
            wit::MemberStatus::Pending => MemberStatus::Pending,
            wit::MemberStatus::Active => MemberStatus::Active,
            wit::MemberStatus::Left => MemberStatus::Left,
            wit::MemberStatus::Removed => MemberStatus::Removed,
        }
    }
}
same_enum!(
    MessageKind,
    wit::MessageKind,
    [Text, Image, Link, RedEnvelope, System]
);
same_enum!(
    PaymentStatus,
    wit::PaymentStatus,
    [Succeeded, Failed, Refunded]
);
same_enum!(
    PluginKind,
    wit::PluginKind,
    [EntryGate, ActivityGame, ConversionFlow]
);
same_enum!(Asset, WitAsset, [Points, Money]);
same_enum!(
    Capability,
    wit::Capability,
    [
        ReadMembers,
        ManageMembers,
        PostMessages,
        DirectMessages,
        DeleteMessages,
        AwardPoints,
        Ledger,
        Timers,
        Storage
    ]
);

impl From<Member> for wit::Member {
    fn from(m: Member) -> Self {
        wit::Member {
            id: m.id,
            group: m.group,
            display_name: m.display_name,
            role: m.role.into(),
            status: m.status.into(),
            tags: m.tags,
            inviter: m.inviter,
            joined_at: m.joined_at,
            last_active_at: m.last_active_at,
            points: m.points,
            paid_tier: m.paid_tier,
            paid_until: m.paid_until,
            restricted_until: m.restricted_until,
        }
    }
}

pub fn group_to_wit(g: Group, utc_offset_minutes: i32, member_count: u32) -> wit::Group {
    wit::Group {
        id: g.id,
        name: g.name,
        positioning: g.positioning,
        category: g.category,
        region: g.region,
        capacity: g.capacity,
        parent: g.parent,
        timezone: g.timezone,
        utc_offset_minutes,
        settings: g.settings.to_string(),
        member_count,
    }
}

impl From<GroupCounts> for wit::GroupCounts {
    fn from(c: GroupCounts) -> Self {
        wit::GroupCounts {
            active: c.active,
            pending: c.pending,
            left: c.left,
            removed: c.removed,
        }
    }
}

impl From<Message> for wit::Message {
    fn from(m: Message) -> Self {
        wit::Message {
            id: m.id,
            group: m.group,
            sender: m.sender,
            kind: m.kind.into(),
            text: m.text,
            mentions: m.mentions,
            reply_to: m.reply_to,
            links: m.links,
            sent_at: m.sent_at,
        }
    }
}

impl From<JoinRequest> for wit::JoinRequest {
    fn from(r: JoinRequest) -> Self {
        wit::JoinRequest {
            id: r.id,
            member: r.member,
            display_name: r.display_name,
            invite_code: r.invite_code,
            referrer: r.referrer,
            answer: r.answer,
            payload: r.payload.to_string(),
            requested_at: r.requested_at,
        }
    }
}

impl From<wit::Decision> for Decision {
    fn from(d: wit::Decision) -> Self {
        match d {
            wit::Decision::Admit(reason) => Decision::Admit { reason },
            wit::Decision::Reject(reason) => Decision::Reject { reason },
            wit::Decision::Pending(reason) => Decision::Pending { reason },
            wit::Decision::Redirect(r) => Decision::Redirect {
                group: r.group,
                reason: r.reason,
            },
        }
    }
}

impl From<Reaction> for wit::Reaction {
    fn from(r: Reaction) -> Self {
        wit::Reaction {
            message_id: r.message_id,
            member: r.member,
            author: r.author,
            emoji: r.emoji,
        }
    }
}

impl From<Payment> for wit::Payment {
    fn from(p: Payment) -> Self {
        wit::Payment {
            id: p.id,
            member: p.member,
            amount: p.amount,
            currency: p.currency,
            status: p.status.into(),
            purpose: p.purpose,
        }
    }
}

impl From<TimerFired> for wit::TimerFired {
    fn from(t: TimerFired) -> Self {
        wit::TimerFired {
            name: t.name,
            payload: t.payload,
            due_at: t.due_at,
        }
    }
}

/// Metadata as a plugin returned it, checked: the schema must be JSON.
pub fn metadata_from_wit(m: wit::PluginMetadata) -> Result<PluginMetadata, String> {
    validate_plugin_name(&m.name)?;
    let config_schema: serde_json::Value = serde_json::from_str(&m.config_schema)
        .map_err(|e| format!("config-schema of plugin {:?} is not JSON: {e}", m.name))?;
    Ok(PluginMetadata {
        name: m.name,
        version: m.version,
        kind: m.kind.into(),
        description: m.description,
        config_schema,
        capabilities: m.capabilities.into_iter().map(Into::into).collect(),
    })
}
