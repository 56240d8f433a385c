//! Storage: one implementation over sqlx's `Any` driver, so SQLite (the
//! embedded default) and Postgres run the same queries and the same tests.
//!
//! The SQL is kept portable: `$n` placeholders (SQLite accepts them too),
//! BIGINT for every number, JSON as text, `CAST(.. AS BIGINT)` around sums.

mod cache;
mod reads;
mod writes;

pub use writes::Tx;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use std::time::Duration;

use crate::domain::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cache: Arc<cache::Cache>,
    /// SQLite: one writing transaction at a time, taken in turn here. Left to
    /// SQLite, a second writer gets SQLITE_BUSY and its busy handler sleeps
    /// (1, 2, 5… ms), which under load costs more than the writes.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Set on the view one event reads through (`for_event`).
    event: Option<Arc<EventReads>>,
}

/// Rows one event has read. While an event runs, its group takes no other
/// event (the group lock) and nothing is committed before its own commit,
/// so what the host and each plugin read once is read from memory after:
/// they ask for the same few members and counts.
#[derive(Default)]
struct EventReads {
    members: std::sync::Mutex<std::collections::HashMap<(GroupId, MemberId), Option<Member>>>,
    counts: std::sync::Mutex<std::collections::HashMap<GroupId, GroupCounts>>,
}

/// A plugin as installed: its metadata and the hash of its component.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct InstalledPlugin {
    pub metadata: PluginMetadata,
    /// Hex SHA-256 of the plugin's component.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// When the plugin was installed. Unix epoch milliseconds.
    pub installed_at: Millis,
}

/// A plugin switched on for a group, with the operator's choices.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Enablement {
    pub group: GroupId,
    pub plugin: String,
    /// Run order among the group's plugins, lower first.
    pub position: i64,
    /// The plugin's config, valid against its config schema.
    pub config: serde_json::Value,
    /// Capabilities granted.
    pub capabilities: Vec<Capability>,
    pub limits: Limits,
    /// When the plugin was first enabled on the group. Unix epoch milliseconds.
    pub enabled_at: Millis,
    /// Failed invocations in a row.
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
    pub policy: FailurePolicy,
    /// Set when the host switched the plugin off (e.g. too many failures);
    /// enabling it again clears it.
    pub disabled_reason: Option<String>,
}

impl Enablement {
    /// What the plugin may do: what the operator granted, within what the
    /// plugin declares.
    pub fn granted(&self, declared: &[Capability]) -> Vec<Capability> {
        self.capabilities
            .iter()
            .copied()
            .filter(|c| declared.contains(c))
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFilter {
    pub role: Option<Role>,
    pub tag: Option<String>,
    pub status: Option<MemberStatus>,
    pub inactive_since: Option<Millis>,
    pub limit: u32,
}

/// An account's balance: the same query inside and outside a transaction.
const BALANCE_SQL: &str = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries \
     WHERE group_id = $1 AND account = $2 AND asset = $3";

/// The most rows a list returns, whatever is asked.
pub const MAX_LIST: u32 = 1000;

/// A plugin's timer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Timer {
    pub plugin: String,
    pub group: GroupId,
    pub name: String,
    /// When the timer fires next. Unix epoch milliseconds.
    pub due_at: Millis,
    /// Repeat period in milliseconds; null for a one-shot timer.
    pub period_ms: Option<i64>,
    pub payload: String,
}

/// A recorded run of a plugin handler.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Invocation {
    pub id: i64,
    pub event_id: String,
    pub group: GroupId,
    pub plugin: String,
    /// The handler's WIT name, e.g. `on-message`.
    pub handler: String,
    pub ok: bool,
    pub error: Option<String>,
    pub fuel_used: i64,
    /// Wall-clock duration in microseconds.
    pub duration_us: i64,
    pub logs: Vec<LogLine>,
    /// The event's time. Unix epoch milliseconds.
    pub at: Millis,
}

impl Store {
    /// Connects and runs the migrations. `sqlite://path` (created if missing,
    /// WAL) or `postgres://…`.
    ///
    /// # Errors
    /// An unknown scheme, an unreachable server or a failed migration.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        use anyhow::Context;
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://FILE or postgres://…");
        };
        let url = if backend == Backend::Sqlite && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_string()
        };
        // No ping before each use of a pooled connection: sqlx's default
        // costs a second round trip per query (for SQLite a second hop to
        // the connection's thread; measured in docs/benchmarks.md). A
        // Postgres connection that died while idle fails its next query,
        // which is discarded with it; the request gets a 500 and the
        // adapter's retry (events are idempotent) goes through.
        let mut options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false);
        if backend == Backend::Sqlite {
            // One writer at a time is SQLite's rule; WAL lets readers run beside it.
            options = options.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 10000",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(16);
        }
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let writer = (backend == Backend::Sqlite).then(Default::default);
        let store = Store {
            pool,
            backend,
            cache: Default::default(),
            writer,
            event: None,
        };
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator
            .run(&store.pool)
            .await
            .context("running migrations")?;
        Ok(store)
    }

    /// A view of the store for processing one event: members and counts
    /// are read once per event (see `EventReads`). Its writes (`begin`) are
    /// the store's.
    pub fn for_event(&self) -> Store {
        Store {
            event: Some(Default::default()),
            ..self.clone()
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn begin(&self) -> Result<Tx<'static>> {
        // SQLite's writer turn (see `writer`); Postgres needs none.
        let turn = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        Ok(Tx::new(self.pool.begin().await?, self.cache.clone(), turn))
    }

    /// Marks outbox actions delivered, in a transaction of their own.
    pub async fn ack_outbox(&self, ids: &[i64], now: Millis) -> Result<u64> {
        let mut tx = self.begin().await?;
        let acked = tx.ack_outbox(ids, now).await?;
        tx.commit().await?;
        Ok(acked)
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

// ---- row decoding, shared by reads and writes ----

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Invalid(format!("stored JSON is malformed: {e}")))
}

fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse().map_err(StoreError::Invalid)
}

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        positioning: row.try_get("positioning")?,
        category: row.try_get("category")?,
        region: row.try_get("region")?,
        capacity: row.try_get::<i64, _>("capacity")? as u32,
        parent: row.try_get("parent")?,
        timezone: row.try_get("timezone")?,
        settings: json(&row.try_get::<String, _>("settings")?)?,
        created_at: row.try_get("created_at")?,
    })
}

const MEMBER_COLUMNS: &str =
    "group_id, member_id, display_name, role, status, inviter, joined_at, \
     last_active_at, paid_tier, paid_until, restricted_until";

fn member_from_row(row: &AnyRow) -> Result<Member> {
    Ok(Member {
        id: row.try_get("member_id")?,
        group: row.try_get("group_id")?,
        display_name: row.try_get("display_name")?,
        role: parse(&row.try_get::<String, _>("role")?)?,
        status: parse(&row.try_get::<String, _>("status")?)?,
        tags: vec![],
        inviter: row.try_get("inviter")?,
        joined_at: row.try_get("joined_at")?,
        last_active_at: row.try_get("last_active_at")?,
        points: 0,
        paid_tier: row.try_get("paid_tier")?,
        paid_until: row.try_get("paid_until")?,
        restricted_until: row.try_get("restricted_until")?,
    })
}

const JOIN_COLUMNS: &str =
    "id, group_id, member_id, display_name, invite_code, referrer, answer, payload, \
     status, reason, redirect_to, pending_plugin, requested_at, decided_at";

fn join_request_from_row(row: &AnyRow) -> Result<JoinRequest> {
    Ok(JoinRequest {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        member: row.try_get("member_id")?,
        display_name: row.try_get("display_name")?,
        invite_code: row.try_get("invite_code")?,
        referrer: row.try_get("referrer")?,
        answer: row.try_get("answer")?,
        payload: json(&row.try_get::<String, _>("payload")?)?,
        status: parse(&row.try_get::<String, _>("status")?)?,
        reason: row.try_get("reason")?,
        redirect_to: row.try_get("redirect_to")?,
        pending_plugin: row.try_get("pending_plugin")?,
        requested_at: row.try_get("requested_at")?,
        decided_at: row.try_get("decided_at")?,
    })
}

fn message_from_row(row: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        sender: row.try_get("sender")?,
        kind: parse(&row.try_get::<String, _>("kind")?)?,
        text: row.try_get("text")?,
        mentions: json(&row.try_get::<String, _>("mentions")?)?,
        reply_to: row.try_get("reply_to")?,
        links: json(&row.try_get::<String, _>("links")?)?,
        sent_at: row.try_get("sent_at")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
    })
}

fn enablement_from_row(row: &AnyRow) -> Result<Enablement> {
    Ok(Enablement {
        group: row.try_get("group_id")?,
        plugin: row.try_get("plugin")?,
        position: row.try_get("position")?,
        config: json(&row.try_get::<String, _>("config")?)?,
        capabilities: json(&row.try_get::<String, _>("capabilities")?)?,
        limits: json(&row.try_get::<String, _>("limits")?)?,
        enabled_at: row.try_get("enabled_at")?,
        consecutive_failures: row.try_get("consecutive_failures")?,
        last_error: row.try_get("last_error")?,
        policy: json(&row.try_get::<String, _>("policy")?)?,
        disabled_reason: row.try_get("disabled_reason")?,
    })
}

fn timer_from_row(row: &AnyRow) -> Result<Timer> {
    Ok(Timer {
        plugin: row.try_get("plugin")?,
        group: row.try_get("group_id")?,
        name: row.try_get("name")?,
        due_at: row.try_get("due_at")?,
        period_ms: row.try_get("period_ms")?,
        payload: row.try_get("payload")?,
    })
}

fn outbox_from_row(row: &AnyRow) -> Result<OutboxAction> {
    Ok(OutboxAction {
        id: row.try_get("id")?,
        group: row.try_get("group_id")?,
        action: row.try_get("action")?,
        payload: json(&row.try_get::<String, _>("payload")?)?,
        created_at: row.try_get("created_at")?,
        plugin: row.try_get("plugin")?,
    })
}
