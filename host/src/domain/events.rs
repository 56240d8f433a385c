//! What happens in a group: events from the chat adapter, and what plugins see.

use super::*;

/// An event as the chat-platform adapter sends it. `id` makes ingestion
/// idempotent within the group: the same id is processed once, however
/// often it is sent (another group's event may use the same id).
// No `deny_unknown_fields` here: serde does not support it beside
// `flatten`; the flattened `EventBody` rejects unknown fields instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingEvent {
    pub id: String,
    pub group: GroupId,
    /// When it happened on the platform; defaults to the time it is received.
    /// Bounded around the server's clock (`check_event_time`).
    #[serde(default)]
    pub at: Option<Millis>,
    #[serde(flatten)]
    pub body: EventBody,
}

/// The fields of each event type, named by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventBody {
    /// A message posted in the group.
    Message {
        /// Member id: 1-128 bytes. An unknown sender is registered as an active member.
        sender: MemberId,
        /// At most 64 KiB.
        text: String,
        #[serde(default = "default_kind")]
        kind: MessageKind,
        #[serde(default)]
        mentions: Vec<MemberId>,
        #[serde(default)]
        reply_to: Option<String>,
        /// The platform's message id; generated when absent.
        #[serde(default)]
        message_id: Option<String>,
    },
    /// A reaction to a message.
    Reaction {
        /// A message stored in the group.
        message_id: String,
        /// Member id of the reactor.
        member: MemberId,
        emoji: String,
    },
    /// A payment by a member.
    Payment {
        payment_id: String,
        /// An existing member of the group.
        member: MemberId,
        /// Positive amount in minor units, at most 10^15.
        #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
        amount: i64,
        #[serde(default = "default_currency")]
        currency: String,
        status: PaymentStatus,
        #[serde(default)]
        purpose: String,
    },
    /// A request to join the group.
    JoinRequested(JoinRequestInput),
    /// An applicant's answer to a gate's challenge.
    ChallengeAnswer {
        /// A member with a pending join request.
        member: MemberId,
        answer: String,
    },
    /// A member left the group.
    MemberLeft {
        /// An active member.
        member: MemberId,
    },
}

fn default_kind() -> MessageKind {
    MessageKind::Text
}

fn default_currency() -> String {
    "CNY".to_string()
}

/// A join request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequestInput {
    /// Member id: 1-128 bytes.
    pub member: MemberId,
    /// Defaults to the member id.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub invite_code: Option<String>,
    /// Member id of the referrer.
    #[serde(default)]
    pub referrer: Option<MemberId>,
    #[serde(default)]
    pub answer: Option<String>,
    /// Extra data for the gates: any JSON value.
    #[serde(default)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub payload: Option<serde_json::Value>,
}

text_enum!(
    /// The status of a payment.
    PaymentStatus { Succeeded = "succeeded", Failed = "failed", Refunded = "refunded" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub member: MemberId,
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub purpose: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    pub member: MemberId,
    pub author: MemberId,
    pub emoji: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerFired {
    pub name: String,
    pub payload: String,
    pub due_at: Millis,
}

/// An event as a plugin handler receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginEvent {
    Enabled,
    JoinRequest(JoinRequest),
    ChallengeAnswer(JoinRequest, String),
    MemberJoined(Member),
    MemberLeft(Member),
    Message(Message),
    Reaction(Reaction),
    Payment(Payment),
    Timer(TimerFired),
}

impl PluginEvent {
    /// The handler's name as the WIT spells it (for logs and errors).
    pub fn handler(&self) -> &'static str {
        match self {
            PluginEvent::Enabled => "on-enabled",
            PluginEvent::JoinRequest(_) => "on-join-request",
            PluginEvent::ChallengeAnswer(..) => "on-challenge-answer",
            PluginEvent::MemberJoined(_) => "on-member-joined",
            PluginEvent::MemberLeft(_) => "on-member-left",
            PluginEvent::Message(_) => "on-message",
            PluginEvent::Reaction(_) => "on-reaction",
            PluginEvent::Payment(_) => "on-payment",
            PluginEvent::Timer(_) => "on-timer",
        }
    }
}
