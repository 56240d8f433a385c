//! The service: events in, plugins run in the group's order, effects
//! committed in one transaction with the event's processing record.

mod alerts;
mod apply;
mod auth;
mod enablements;
mod event;
mod groups;
mod member_data;
mod plugins;
mod referrals;
mod replay;
mod stats;
mod timers;
mod versions;

pub use auth::{hash_token, Authentication, Expiry};
pub use enablements::{EnableInput, Enabled, EnablementList};
pub use event::EventOutcome;
pub use groups::GroupInput;
pub use member_data::{ErasureReport, MemberExport};
pub use plugins::{check_schema, for_each_on_cores, MAX_PLUGIN_BYTES};
pub use referrals::ReferralCode;
pub use replay::{EventDiff, ReplayOptions, ReplayReport};
pub use stats::{DayStats, Funnel, GroupStats, GroupSummary, MAX_STATS_DAYS};
pub use versions::{
    CapabilityDiff, ShadowInput, ShadowReport, UpgradeAllInput, UpgradeInput, UpgradeReport,
    Upgraded, VersionInfo, VersionRef,
};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::*;
use crate::runtime::Runtime;
use crate::store::{Store, StoreError, Tx};

/// Errors a caller of the service can act on; HTTP maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A group, member, plugin or token that does not exist; the text names it.
    #[error("{0} not found")]
    NotFound(String),
    /// Input that is malformed or out of range; the text says what.
    #[error("{0}")]
    Invalid(String),
    /// The request clashes with existing state (e.g. an id already taken).
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but breaks a rule (e.g. config vs schema).
    #[error("{0}")]
    Unprocessable(String),
    /// A config that does not match its plugin's schema: the whole message,
    /// and each problem with the field it is about (a form shows it there).
    #[error("{message}")]
    InvalidConfig {
        /// Every problem in one text, as `Unprocessable` would say it.
        message: String,
        /// One entry per problem.
        problems: Vec<FieldProblem>,
    },
    /// Anything else (database, runtime); logged, not shown to API callers.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// One problem of a config, at the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field as a JSON Pointer into the config, e.g. `/reward` or
    /// `/texts/greeting`; empty for the config as a whole. A missing
    /// required field is named by its own path.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::InsufficientFunds(m) | StoreError::Limit(m) | StoreError::Rejected(m) => {
                ServiceError::Unprocessable(m)
            }
            StoreError::Invalid(m) => ServiceError::Internal(anyhow::anyhow!(m)),
            StoreError::Db(e) => ServiceError::Internal(e.into()),
        }
    }
}

/// The result of a service call.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Where "now" comes from: the system clock, or a fixed one moved by tests.
#[derive(Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<Millis>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock { fixed: None }
    }
    /// A clock stopped at `start` (Unix epoch milliseconds) that only
    /// [`Clock::advance`] moves: for tests and `kith test`.
    pub fn manual(start: Millis) -> Self {
        Clock {
            fixed: Some(Arc::new(Mutex::new(start))),
        }
    }
    /// The current time, Unix epoch milliseconds.
    pub fn now(&self) -> Millis {
        match &self.fixed {
            Some(t) => *t.lock().expect("clock"),
            None => chrono::Utc::now().timestamp_millis(),
        }
    }
    /// Moves a manual clock; the system clock cannot be moved.
    pub fn advance(&self, ms: i64) -> bool {
        match &self.fixed {
            Some(t) => {
                *t.lock().expect("clock") += ms;
                true
            }
            None => false,
        }
    }
}

/// The kith service, shared by the HTTP API, the CLI and the timer loop.
pub struct Kith {
    /// The database.
    pub store: Store,
    /// The wasm runtime with its compiled plugins.
    pub runtime: Arc<Runtime>,
    /// Where "now" comes from; tests use a manual clock.
    pub clock: Clock,
    /// Each group's queue in this process (see `group_turn`).
    group_locks: Mutex<HashMap<GroupId, Arc<tokio::sync::Mutex<()>>>>,
    /// One timer pass at a time in this process (`fire_due_timers`).
    timer_pass: tokio::sync::Mutex<()>,
    /// When set, every invocation's full report is kept here (conformance).
    observed: Mutex<Option<Vec<Observed>>>,
    /// Requests need a token (see `auth.rs`).
    auth_required: std::sync::atomic::AtomicBool,
    /// Plugins are being installed or compiled in the background
    /// (`app::prepare_plugins`).
    preparing_plugins: std::sync::atomic::AtomicBool,
    /// The most an operator may give a plugin (the admin's server config).
    ceilings: std::sync::RwLock<Limits>,
}

/// One invocation as the conformance suite sees it.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The group the event belonged to.
    pub group: GroupId,
    /// The event's id.
    pub event_id: String,
    /// The plugin invoked.
    pub plugin: String,
    /// The handler's WIT name, e.g. `on-message`.
    pub handler: String,
    /// How the invocation failed, if it did.
    pub failure: Option<crate::runtime::Failure>,
    /// The error text, if it failed.
    pub error: Option<String>,
    /// Wasmtime fuel the invocation consumed.
    pub fuel_used: u64,
    /// The largest linear memory the plugin used, in bytes.
    pub peak_memory: usize,
    /// Wall time of the invocation.
    pub duration: std::time::Duration,
    /// The effects the invocation asked for (empty if it failed).
    pub effects: Vec<Effect>,
}

impl Kith {
    /// The service over a store, a runtime and a clock. Requests need no token
    /// until the first one is created (see `auth.rs`).
    pub fn new(store: Store, runtime: Arc<Runtime>, clock: Clock) -> Arc<Kith> {
        Arc::new(Kith {
            store,
            runtime,
            clock,
            group_locks: Mutex::new(HashMap::new()),
            timer_pass: Default::default(),
            observed: Mutex::new(None),
            auth_required: Default::default(),
            preparing_plugins: Default::default(),
            ceilings: std::sync::RwLock::new(Limits::DEFAULT_CEILINGS),
        })
    }

    /// Sets the ceilings of the limits operators give plugins; enablements
    /// made before keep theirs.
    pub fn set_ceilings(&self, ceilings: Limits) {
        *self.ceilings.write().expect("ceilings") = ceilings;
    }

    /// The ceilings of the limits operators give plugins.
    pub fn ceilings(&self) -> Limits {
        *self.ceilings.read().expect("ceilings")
    }

    /// Starts keeping every invocation's report, for `take_observed`.
    pub fn observe(&self) {
        *self.observed.lock().expect("observed") = Some(vec![]);
    }

    /// Whether every installed plugin is compiled (no background
    /// preparation under way): what `/healthz` reports.
    pub fn plugins_ready(&self) -> bool {
        !self
            .preparing_plugins
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks the background preparation of plugins as under way or done.
    pub fn set_preparing_plugins(&self, preparing: bool) {
        self.preparing_plugins
            .store(preparing, std::sync::atomic::Ordering::Release);
    }

    /// The reports kept since `observe` or the last call.
    pub fn take_observed(&self) -> Vec<Observed> {
        self.observed
            .lock()
            .expect("observed")
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Waits for `group`'s turn: its events and changes run one at a time,
    /// in arrival order, across every kith process on the database. In this
    /// process, a group's callers queue on an in-memory lock (FIFO, holding
    /// no connection); on Postgres the one at the front then takes the
    /// group's advisory lock in the transaction that will write its changes,
    /// so other processes queue behind it (`Store::begin_group_turn`).
    pub(crate) async fn group_turn(&self, group: &str) -> Result<GroupTurn> {
        let queue = self
            .group_locks
            .lock()
            .expect("locks")
            .entry(group.to_string())
            .or_default()
            .clone();
        let local = queue.lock_owned().await;
        let tx = self.store.begin_group_turn(group).await?;
        Ok(GroupTurn { tx, _local: local })
    }
}

/// A group's turn (`Kith::group_turn`), held until dropped.
pub(crate) struct GroupTurn {
    // Declared first: an unused transaction rolls back, releasing the
    // group in other processes, before this process's next caller goes.
    tx: Option<Tx<'static>>,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

impl GroupTurn {
    /// The transaction to write the group's changes in: the one holding
    /// the turn (Postgres), else a new one. Taken once.
    pub(crate) async fn begin(&mut self, store: &Store) -> Result<Tx<'static>> {
        match self.tx.take() {
            Some(tx) => Ok(tx),
            None => Ok(store.begin().await?),
        }
    }
}

/// A stable 64-bit seed from text: the same event gives the same draws.
pub fn seed_of(parts: &[&str]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}
