//! The community domain in plain Rust: no axum, sqlx or wasmtime here.
//!
//! Times are Unix epoch milliseconds (`i64`), amounts integer minor units.

mod auth;
mod effects;
mod events;
mod ledger;
mod plugin;

pub use auth::*;
pub use effects::*;
pub use events::*;
pub use ledger::*;
pub use plugin::*;

use serde::{Deserialize, Serialize};

pub type GroupId = String;
pub type MemberId = String;
/// Unix epoch milliseconds.
pub type Millis = i64;

/// Declares a fieldless enum with its one text spelling, used alike in JSON,
/// in the database and in error messages.
// `$text` is a `tt`, not a `literal`: utoipa's derive reads `rename` only
// from a bare string token, and a `literal` fragment arrives wrapped.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
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
    Role { Owner = "owner", Admin = "admin", Core = "core", Partner = "partner", Vip = "vip", Member = "member" }
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
    MemberStatus { Pending = "pending", Active = "active", Left = "left", Removed = "removed", Declined = "declined", Redirected = "redirected" }
);

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// Member id (the platform's user id).
    pub id: MemberId,
    pub group: GroupId,
    pub display_name: String,
    pub role: Role,
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
    pub paid_tier: Option<String>,
    /// End of the paid period. Unix epoch milliseconds.
    pub paid_until: Option<Millis>,
    /// End of a restriction. Unix epoch milliseconds.
    pub restricted_until: Option<Millis>,
}

impl Member {
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
    pub name: String,
    pub positioning: String,
    pub category: String,
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
}

/// Number of members of a group by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupCounts {
    pub active: u32,
    pub pending: u32,
    pub left: u32,
    pub removed: u32,
    /// Applicants refused (by a gate, the capacity or a reviewer).
    pub declined: u32,
    /// Applicants a gate sent to another group.
    pub redirected: u32,
}

text_enum!(
    /// The kind of a message.
    MessageKind { Text = "text", Image = "image", Link = "link", RedEnvelope = "red-envelope", System = "system" }
);

/// A message in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: String,
    pub group: GroupId,
    /// Member id, or `plugin:<name>` for messages posted by a plugin.
    pub sender: MemberId,
    pub kind: MessageKind,
    pub text: String,
    /// Mentioned member ids.
    pub mentions: Vec<MemberId>,
    /// Id of the message replied to.
    pub reply_to: Option<String>,
    /// URLs found in the text.
    pub links: Vec<String>,
    /// When the message was sent. Unix epoch milliseconds.
    pub sent_at: Millis,
    pub deleted: bool,
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
    JoinStatus { Pending = "pending", Admitted = "admitted", Rejected = "rejected", Redirected = "redirected" }
);

/// A request to join a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinRequest {
    pub id: String,
    pub group: GroupId,
    pub member: MemberId,
    pub display_name: String,
    pub invite_code: Option<String>,
    /// Referring member; kept only if an active member.
    pub referrer: Option<MemberId>,
    pub answer: Option<String>,
    /// Extra data from the platform; null when none was sent.
    pub payload: serde_json::Value,
    pub status: JoinStatus,
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
    Admit { reason: String },
    Reject { reason: String },
    Pending { reason: String },
    Redirect { group: GroupId, reason: String },
}

impl Decision {
    pub fn status(&self) -> JoinStatus {
        match self {
            Decision::Admit { .. } => JoinStatus::Admitted,
            Decision::Reject { .. } => JoinStatus::Rejected,
            Decision::Pending { .. } => JoinStatus::Pending,
            Decision::Redirect { .. } => JoinStatus::Redirected,
        }
    }
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
