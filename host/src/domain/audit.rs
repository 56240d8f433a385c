//! Who changed what: the actor of an operator's request, and the audit log's
//! entries.

use super::*;

/// Who makes a change: a token, an open API (no tokens configured), or kith
/// itself (e.g. switching off a failing plugin).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Actor {
    /// A request without a token, to an API that requires none.
    #[default]
    Open,
    /// A request with this token (its id, never its secret).
    Token(String),
    /// The host, on its own.
    Kith,
}

impl Actor {
    /// The text the audit log records for the actor.
    pub fn label(&self) -> &str {
        match self {
            Actor::Open => "open-api",
            Actor::Token(_) => "token",
            Actor::Kith => "kith",
        }
    }

    /// The token's id, when a token acted.
    pub fn token_id(&self) -> Option<&str> {
        match self {
            Actor::Token(id) => Some(id),
            _ => None,
        }
    }
}

/// One entry of a group's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Increasing id.
    pub id: i64,
    /// The group the change was made in.
    pub group: GroupId,
    /// When. Unix epoch milliseconds.
    pub at: Millis,
    /// `token` (see `token_id`), `open-api` (a request without a token, to an
    /// API that requires none) or `kith` (the host on its own).
    pub actor: String,
    /// The id of the token that made the request.
    pub token_id: Option<String>,
    /// What was done, e.g. `plugin.enable`, `plugin.configure`, `plugin.order`,
    /// `plugin.disable`, `plugin.switched-off`, `group.update`,
    /// `group.archive`, `join.approve`, `member.role`.
    pub action: String,
    /// What it was done to: a plugin, a member, the group.
    pub subject: String,
    /// The change's particulars (e.g. the config sent).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}
