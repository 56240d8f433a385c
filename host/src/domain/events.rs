//! What happens in a group: events from the chat adapter, and what plugins see.

use super::*;

/// An event as the chat-platform adapter sends it. `id` makes ingestion
/// idempotent within the group: the same id is processed once, however
/// often it is sent (another group's event may use the same id).
// No `deny_unknown_fields` here: serde does not support it beside
// `flatten`; the flattened `EventBody` rejects unknown fields instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingEvent {
    /// The platform's event id; the same id is processed only once.
    pub id: String,
    /// The group the event happened in.
    pub group: GroupId,
    /// When it happened on the platform; defaults to the time it is received.
    /// Bounded around the server's clock (`check_event_time`).
    #[serde(default)]
    pub at: Option<Millis>,
    /// What happened, with its fields (flattened, named by `type`).
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
        /// Defaults to `text`.
        #[serde(default = "default_kind")]
        kind: MessageKind,
        /// Members @mentioned in the message.
        #[serde(default)]
        mentions: Vec<MemberId>,
        /// Id of the message replied to.
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
        /// The reaction, e.g. "👍".
        emoji: String,
    },
    /// A payment by a member.
    Payment {
        /// The platform's payment id.
        payment_id: String,
        /// An existing member of the group.
        member: MemberId,
        /// Positive amount in minor units, at most 10^15.
        #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
        amount: i64,
        /// ISO 4217 currency code; defaults to CNY.
        #[serde(default = "default_currency")]
        currency: String,
        /// Succeeded, failed or refunded.
        status: PaymentStatus,
        /// What the payment is for, e.g. `entry` or `group-buy:<deal>`; plugins match on it.
        #[serde(default)]
        purpose: String,
    },
    /// A request to join the group.
    JoinRequested(JoinRequestInput),
    /// An applicant's answer to a gate's challenge.
    ChallengeAnswer {
        /// A member with a pending join request.
        member: MemberId,
        /// The applicant's answer, as text.
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
    /// Invite code the applicant gave, if any.
    #[serde(default)]
    pub invite_code: Option<String>,
    /// The referral code the applicant was given by a member of the group
    /// (`POST /v1/groups/{group}/members/{member}/referral-code`, or a
    /// plugin's `members.referral-code`): the new member is attributed to
    /// its owner when they are active. An unknown code is refused (422).
    #[serde(default)]
    pub referral_code: Option<String>,
    /// No longer accepted (a 422): a member id named here could be anyone's,
    /// so attribution goes through `referral_code`. Kept so that events
    /// recorded before codes existed still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(deprecated)]
    pub referrer: Option<MemberId>,
    /// Answer to a gate's question, if given up front.
    #[serde(default)]
    pub answer: Option<String>,
    /// Extra data for the gates: any JSON value.
    #[serde(default)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub payload: Option<serde_json::Value>,
}

text_enum!(
    /// The status of a payment.
    PaymentStatus {
        /// The money was received.
        Succeeded = "succeeded",
        /// The payment did not go through.
        Failed = "failed",
        /// A succeeded payment was paid back.
        Refunded = "refunded",
    }
);

/// A payment event, as plugins receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The platform's payment id.
    pub id: String,
    /// The member who paid.
    pub member: MemberId,
    /// Positive amount in minor units.
    pub amount: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Succeeded, failed or refunded.
    pub status: PaymentStatus,
    /// What the payment is for, as the platform sent it.
    pub purpose: String,
}

/// A reaction event, as plugins receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The message reacted to.
    pub message_id: String,
    /// The member who reacted.
    pub member: MemberId,
    /// The sender of the message reacted to.
    pub author: MemberId,
    /// The reaction, e.g. "👍".
    pub emoji: String,
}

/// A timer of the plugin that came due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerFired {
    /// The name the plugin gave the timer.
    pub name: String,
    /// The payload the plugin set with it.
    pub payload: String,
    /// When it was due, Unix epoch milliseconds (it may run a little later).
    pub due_at: Millis,
}

/// An event as a plugin handler receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginEvent {
    /// The plugin was just enabled in the group (`on-enabled`).
    Enabled,
    /// Someone asked to join (`on-join-request`, gates only).
    JoinRequest(JoinRequest),
    /// An applicant answered a gate's challenge: the request and the answer.
    ChallengeAnswer(JoinRequest, String),
    /// A member became active (`on-member-joined`).
    MemberJoined(Member),
    /// A member left or was removed (`on-member-left`).
    MemberLeft(Member),
    /// A message was posted (`on-message`).
    Message(Message),
    /// A reaction to a message (`on-reaction`).
    Reaction(Reaction),
    /// A payment (`on-payment`).
    Payment(Payment),
    /// One of the plugin's timers fired (`on-timer`).
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
