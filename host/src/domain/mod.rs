//! The community domain in plain Rust: no axum, sqlx or wasmtime here.
//!
//! Times are Unix epoch milliseconds (`i64`), amounts integer minor units.

mod audit;
mod auth;
mod bounds;
mod effects;
mod events;
mod ledger;
mod plugin;
mod referral;

pub use audit::*;
pub use auth::*;
pub use bounds::*;
pub use effects::*;
pub use events::*;
pub use ledger::*;
pub use plugin::*;
pub use referral::*;

use serde::{Deserialize, Serialize};

/// A group's id: 1-64 letters, digits, '-', '_' or '.', chosen by the operator.
pub type GroupId = String;
/// A member's id: the platform's user id, unique within a group.
pub type MemberId = String;
/// Unix epoch milliseconds.
pub type Millis = i64;

/// Declares a fieldless enum with its one text spelling, used alike in JSON,
/// in the database and in error messages.
// `$text` is a `tt`, not a `literal`: utoipa's derive reads `rename` only
// from a bare string token, and a `literal` fragment arrives wrapped.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The text spelling, as in JSON, the database and the WIT enum.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} {other:?}; expected one of: {}",
                        stringify!($name).to_lowercase(),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// Roles in a group, most privileged first.
    Role {
        /// Owns the group.
        Owner = "owner",
        /// Runs the group with the owner.
        Admin = "admin",
        /// Core participant: an active fan the owner relies on.
        Core = "core",
        /// Links this group with another one.
        Partner = "partner",
        /// Paying member.
        Vip = "vip",
        /// Everyone else; the role a new member gets.
        Member = "member",
    }
);

impl Role {
    /// Owners and admins run the group: moderation exempts them, reviews need them.
    pub fn is_privileged(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

text_enum!(
    /// A member's status in a group. `declined` and `redirected` are
    /// applicants who were not let in (they never joined, or not this time);
    /// plugins see both as `left` (contract 0.1.0). A `removed` member stays
    /// removed, and is refused, until the operator lifts the removal.
    MemberStatus {
        /// Asked to join; waiting for a gate, a challenge, a payment or a reviewer.
        Pending = "pending",
        /// In the group.
        Active = "active",
        /// Left of their own accord (or had a removal lifted).
        Left = "left",
        /// Removed by an operator or a plugin.
        Removed = "removed",
        /// Asked to join and was refused by a gate or a reviewer.
        Declined = "declined",
        /// Asked to join and was sent to another group of the alliance.
        Redirected = "redirected",
    }
);

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// Member id (the platform's user id).
    pub id: MemberId,
    /// The group the member belongs to.
    pub group: GroupId,
    /// Name shown on the platform.
    pub display_name: String,
    /// Role in the group.
    pub role: Role,
    /// Where the member stands: pending, active, left or removed.
    pub status: MemberStatus,
    /// Sorted tags.
    pub tags: Vec<String>,
    /// The member who referred this one.
    pub inviter: Option<MemberId>,
    /// When the member joined. Unix epoch milliseconds.
    pub joined_at: Option<Millis>,
    /// Last message or reaction. Unix epoch milliseconds.
    pub last_active_at: Option<Millis>,
    /// Balance of the member's points account; filled in by the store.
    pub points: i64,
    /// Paid tier (e.g. "vip"), if the member paid; see `paid_until`.
    pub paid_tier: Option<String>,
    /// End of the paid period. Unix epoch milliseconds.
    pub paid_until: Option<Millis>,
    /// End of a restriction. Unix epoch milliseconds.
    pub restricted_until: Option<Millis>,
    /// Joined outside kith: first seen as a message sender, not admitted by
    /// the group's gates. Counted toward the capacity unless the group's
    /// settings say `observed_count_toward_capacity: false`.
    #[serde(default)]
    pub observed: bool,
}

impl Member {
    /// A new member: pending, role `member`, no tags, points or timestamps.
    pub fn new(group: &str, id: &str, display_name: &str) -> Self {
        Member {
            id: id.to_string(),
            group: group.to_string(),
            display_name: display_name.to_string(),
            role: Role::Member,
            status: MemberStatus::Pending,
            tags: vec![],
            inviter: None,
            joined_at: None,
            last_active_at: None,
            points: 0,
            paid_tier: None,
            paid_until: None,
            restricted_until: None,
            observed: false,
        }
    }
}

/// The default and the advised ceiling of a group's size.
pub const DEFAULT_CAPACITY: u32 = 350;

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    /// Group id: 1-64 letters, digits, '-', '_' or '.'.
    pub id: GroupId,
    /// Display name.
    pub name: String,
    /// Vertical topic, e.g. "photography".
    pub positioning: String,
    /// Kind of group, e.g. "region", "interest", "industry", "organisation".
    pub category: String,
    /// Region the group serves, if any.
    pub region: Option<String>,
    /// The most active members the group admits.
    pub capacity: u32,
    /// The alliance this group belongs to.
    pub parent: Option<GroupId>,
    /// IANA time zone name.
    pub timezone: String,
    /// Operator-defined settings, a JSON object.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// When the group was created. Unix epoch milliseconds.
    pub created_at: Millis,
    /// When the group was archived (read-only: no events, no plugin runs;
    /// its data kept); null while it is live. Unix epoch milliseconds.
    #[serde(default)]
    pub archived_at: Option<Millis>,
}

impl Group {
    /// The members that take up the group's capacity: the active ones, less
    /// the observed ones (`Member::observed`) when the operator's settings
    /// say `"observed_count_toward_capacity": false` (they count by default:
    /// they are in the chat).
    pub fn members_toward_capacity(&self, counts: &GroupCounts) -> u32 {
        let observed_count = self
            .settings
            .get("observed_count_toward_capacity")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        if observed_count {
            counts.active
        } else {
            counts.active.saturating_sub(counts.observed)
        }
    }
}

/// Number of members of a group by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupCounts {
    /// Members in the group.
    pub active: u32,
    /// Applicants not yet admitted.
    pub pending: u32,
    /// Members who left, or were declined or redirected.
    pub left: u32,
    /// Members removed by an operator or a plugin.
    pub removed: u32,
    /// Applicants refused (by a gate, the capacity or a reviewer).
    pub declined: u32,
    /// Applicants a gate sent to another group.
    pub redirected: u32,
    /// Active members kith did not admit (`Member::observed`), included in
    /// `active`.
    #[serde(default)]
    pub observed: u32,
}

text_enum!(
    /// The kind of a message.
    MessageKind {
        /// Plain text.
        Text = "text",
        /// An image (its caption, if any, as text).
        Image = "image",
        /// A shared link or card.
        Link = "link",
        /// A platform red envelope (a money gift).
        RedEnvelope = "red-envelope",
        /// A notice from the platform, not written by a member.
        System = "system",
    }
);

/// A message in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// Message id, from the platform (or generated for plugin posts).
    pub id: String,
    /// The group the message was sent in.
    pub group: GroupId,
    /// Member id, or `plugin:<name>` for messages posted by a plugin.
    pub sender: MemberId,
    /// Text, image, link, red envelope or system notice.
    pub kind: MessageKind,
    /// The text (an image's or link's caption, if any).
    pub text: String,
    /// Mentioned member ids.
    pub mentions: Vec<MemberId>,
    /// Id of the message replied to.
    pub reply_to: Option<String>,
    /// URLs found in the text.
    pub links: Vec<String>,
    /// When the message was sent. Unix epoch milliseconds.
    pub sent_at: Millis,
    /// Deleted by a plugin or an operator; kept for the record.
    pub deleted: bool,
}

/// Applies a JSON Merge Patch (RFC 7396) to `target`: the patch's members
/// replace the target's, recursively for objects; a null removes a member;
/// a patch that is not an object replaces the whole target.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::json!({});
    }
    let object = target.as_object_mut().expect("made an object above");
    for (key, value) in members {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(
                object.entry(key.clone()).or_insert(serde_json::Value::Null),
                value,
            );
        }
    }
}

/// URLs in a text: `http(s)://…` and bare `www.…`, up to the next blank.
pub fn find_links(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace())
        .filter(|w| {
            let lower = w.to_ascii_lowercase();
            lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("www.")
        })
        .map(|w| {
            w.trim_end_matches(|c: char| ",.;:!?)]}\"'，。！？）".contains(c))
                .to_string()
        })
        .collect()
}

text_enum!(
    /// The status of a join request.
    JoinStatus {
        /// Waiting: a gate asked a question or a review is open.
        Pending = "pending",
        /// Admitted: the applicant is an active member.
        Admitted = "admitted",
        /// Refused by a gate or an operator.
        Rejected = "rejected",
        /// Sent to another group (`redirect_to`).
        Redirected = "redirected",
    }
);

/// A request to join a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinRequest {
    /// Request id, from the platform.
    pub id: String,
    /// The group asked to join.
    pub group: GroupId,
    /// The applicant's member id.
    pub member: MemberId,
    /// The applicant's name on the platform.
    pub display_name: String,
    /// Invite code given by the applicant, if any.
    pub invite_code: Option<String>,
    /// Referring member; kept only if an active member.
    pub referrer: Option<MemberId>,
    /// The applicant's answer to a gate's question, if any.
    pub answer: Option<String>,
    /// Extra data from the platform; null when none was sent.
    pub payload: serde_json::Value,
    /// Pending, admitted, rejected or redirected.
    pub status: JoinStatus,
    /// Why it was decided so, from the deciding gate or operator.
    pub reason: Option<String>,
    /// For a redirect: the group the applicant was sent to.
    pub redirect_to: Option<GroupId>,
    /// The plugin that left the request pending, which gets the challenge answer.
    pub pending_plugin: Option<String>,
    /// When the request was made. Unix epoch milliseconds.
    pub requested_at: Millis,
    /// When the request was decided. Unix epoch milliseconds.
    pub decided_at: Option<Millis>,
}

/// A gate's answer, and the outcome of a whole join request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// From a gate: no objection, the next gate decides; as the outcome of
    /// the request: the applicant is in.
    Admit {
        /// Why, for the operator and the adapter.
        reason: String,
    },
    /// Refuse the applicant.
    Reject {
        /// Why, for the operator and the adapter.
        reason: String,
    },
    /// Wait: for an answer, a payment or a reviewer.
    Pending {
        /// What the applicant is waiting for.
        reason: String,
    },
    /// Send the applicant to another group instead.
    Redirect {
        /// The group they are sent to.
        group: GroupId,
        /// Why, for the operator and the adapter.
        reason: String,
    },
}

impl Decision {
    /// The join request status this decision leads to.
    pub fn status(&self) -> JoinStatus {
        match self {
            Decision::Admit { .. } => JoinStatus::Admitted,
            Decision::Reject { .. } => JoinStatus::Rejected,
            Decision::Pending { .. } => JoinStatus::Pending,
            Decision::Redirect { .. } => JoinStatus::Redirected,
        }
    }
    /// The reason given with the decision.
    pub fn reason(&self) -> &str {
        match self {
            Decision::Admit { reason }
            | Decision::Reject { reason }
            | Decision::Pending { reason }
            | Decision::Redirect { reason, .. } => reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn merge_patch_follows_rfc_7396() {
        use serde_json::json;
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (mut target, patch, want) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, want, "patch {patch}");
        }
    }

    #[test]
    fn links_are_found_and_trimmed() {
        assert_eq!(
            find_links("see https://a.example/x, and www.b.example. not ftp://c"),
            vec!["https://a.example/x", "www.b.example"]
        );
        assert!(find_links("no links here").is_empty());
    }

    #[test]
    fn text_enums_round_trip_and_explain_errors() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let err = "boss".parse::<Role>().unwrap_err();
        assert!(err.contains("owner, admin"), "{err}");
    }
}
