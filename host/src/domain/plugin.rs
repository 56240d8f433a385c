//! What a plugin is to the host: its metadata, capabilities and limits.

use super::*;

text_enum!(
    /// The kind (WIT world) of a plugin.
    PluginKind {
        /// Decides join requests (`on-join-request`, `on-challenge-answer`);
        /// also sees messages, payments and timers.
        EntryGate = "entry-gate",
        /// Engagement: member joins and leaves, messages, reactions, timers.
        ActivityGame = "activity-game",
        /// Funnels and sales: what an activity game sees, plus payments.
        ConversionFlow = "conversion-flow",
    }
);

impl PluginKind {
    /// The handlers a plugin of this kind exports, as `wit/worlds.wit` names
    /// and orders them: what the host calls, and what `kith plugin new` writes.
    pub fn handlers(self) -> &'static [&'static str] {
        match self {
            PluginKind::EntryGate => &[
                "on-enabled",
                "on-join-request",
                "on-challenge-answer",
                "on-message",
                "on-payment",
                "on-timer",
            ],
            PluginKind::ActivityGame => &[
                "on-enabled",
                "on-member-joined",
                "on-member-left",
                "on-message",
                "on-reaction",
                "on-timer",
            ],
            PluginKind::ConversionFlow => &[
                "on-enabled",
                "on-member-joined",
                "on-member-left",
                "on-message",
                "on-reaction",
                "on-payment",
                "on-timer",
            ],
        }
    }
}

text_enum!(
    /// A capability a plugin declares or is granted.
    Capability {
        /// Read members and recent messages.
        ReadMembers = "read-members",
        /// Change roles, tags, paid tiers and inviters; admit, decline, remove, restrict.
        ManageMembers = "manage-members",
        /// Post in the group.
        PostMessages = "post-messages",
        /// Send private messages to members.
        DirectMessages = "direct-messages",
        /// Delete messages of the group.
        DeleteMessages = "delete-messages",
        /// Award or take points (issuer <-> member transfers).
        AwardPoints = "award-points",
        /// Read balances and move points and money between any accounts.
        Ledger = "ledger",
        /// Set and cancel the plugin's timers.
        Timers = "timers",
        /// The plugin's private key-value storage in the group.
        Storage = "storage",
    }
);

text_enum!(
    /// Where a plugin prefers to run among a group's plugins: `early`
    /// (moderation and gates, before games and flows) or `any`.
    Place {
        /// Before games and flows: moderation and entry gates.
        Early = "early",
        /// Anywhere in the order.
        Any = "any",
    }
);

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginMetadata {
    /// 1-64 lower-case letters, digits or dashes.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,63}$")]
    pub name: String,
    /// The plugin's own version, semver by convention.
    pub version: String,
    /// Which WIT world it implements, hence which events it gets.
    pub kind: PluginKind,
    /// One line for operators: what the plugin does.
    pub description: String,
    /// JSON Schema of the plugin's config object.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    /// Capabilities the plugin declares.
    pub capabilities: Vec<Capability>,
}

impl PluginMetadata {
    /// Where the plugin prefers to run: what its config schema declares under
    /// `x-kith-place`, else early for entry gates and for plugins that may
    /// delete messages (moderation), else anywhere.
    pub fn preferred_place(&self) -> Place {
        let declared = self
            .config_schema
            .get("x-kith-place")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok());
        declared.unwrap_or(
            if self.kind == PluginKind::EntryGate
                || self.capabilities.contains(&Capability::DeleteMessages)
            {
                Place::Early
            } else {
                Place::Any
            },
        )
    }
}

/// What one invocation may use. Defaults suit a strategy plugin; operators
/// raise them per enablement for heavy plugins (Python, JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Linear memory cap per instance, in bytes.
    #[schema(minimum = 1048576)]
    pub memory_bytes: u64,
    /// Running-time budget per invocation, enforced by epoch interruption
    /// (time waiting for a turn in the slow lane is not counted; see
    /// `runtime/invoke.rs`).
    #[schema(minimum = 1, maximum = 60000)]
    pub timeout_ms: u64,
    /// Instruction budget per invocation (wasmtime fuel).
    #[schema(minimum = 1)]
    pub fuel: u64,
    /// Host-call effects (writes, messages, transfers) per invocation.
    pub max_effects: u32,
    /// Bytes of storage the plugin may hold in one group.
    pub storage_bytes: u64,
    /// Posts and direct messages the plugin may send per minute in one group.
    pub messages_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            timeout_ms: 1_000,
            fuel: 2_000_000_000,
            max_effects: 1_000,
            storage_bytes: 1 << 20,
            messages_per_minute: 60,
        }
    }
}

impl Limits {
    /// The ceilings an admin sets by default (`kith serve --max-*`):
    /// operators choose limits within them.
    pub const DEFAULT_CEILINGS: Limits = Limits {
        memory_bytes: 256 << 20,
        timeout_ms: 10_000,
        fuel: 1_000_000_000_000_000_000,
        max_effects: 10_000,
        storage_bytes: 64 << 20,
        messages_per_minute: 600,
    };

    /// Checks that every limit is within its ceiling.
    ///
    /// # Errors
    /// A message naming the first limit above its ceiling.
    pub fn within(&self, ceilings: &Limits) -> Result<(), String> {
        let pairs: [(&str, u64, u64); 6] = [
            ("memory_bytes", self.memory_bytes, ceilings.memory_bytes),
            ("timeout_ms", self.timeout_ms, ceilings.timeout_ms),
            ("fuel", self.fuel, ceilings.fuel),
            (
                "max_effects",
                self.max_effects.into(),
                ceilings.max_effects.into(),
            ),
            ("storage_bytes", self.storage_bytes, ceilings.storage_bytes),
            (
                "messages_per_minute",
                self.messages_per_minute.into(),
                ceilings.messages_per_minute.into(),
            ),
        ];
        match pairs.iter().find(|(_, value, ceiling)| value > ceiling) {
            Some((name, value, ceiling)) => Err(format!(
                "limits: {name} {value} is above the server's ceiling of {ceiling} (set by the admin: kith serve --max-{})",
                name.replace('_', "-")
            )),
            None => Ok(()),
        }
    }
}

/// Checks a plugin name: lower-case letters, digits and dashes.
pub fn validate_plugin_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        // `/v1/groups/{g}/plugins/order` is a route of its own.
        && name != "order";
    if ok {
        Ok(())
    } else {
        Err(format!(
            "plugin name {name:?} must be 1-64 lower-case letters, digits or dashes"
        ))
    }
}

text_enum!(
    /// What a failing gate means for a join request: `closed` rejects it
    /// (safe for paid or invite-only groups), `open` lets the next gate decide.
    GateFailure {
        /// A failing gate rejects the request.
        Closed = "closed",
        /// A failing gate is skipped.
        Open = "open",
    }
);

/// An operator's choices for when a plugin fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FailurePolicy {
    /// For a gate: whether its failure rejects the join request.
    pub gate_failure: GateFailure,
    /// Switch the plugin off after this many failures in a row (None: never).
    #[schema(minimum = 1)]
    pub disable_after: Option<u32>,
}

impl Default for FailurePolicy {
    fn default() -> Self {
        FailurePolicy {
            gate_failure: GateFailure::Closed,
            disable_after: Some(10),
        }
    }
}
