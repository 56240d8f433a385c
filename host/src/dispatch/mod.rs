//! The service: events in, plugins run in the group's order, effects
//! committed in one transaction with the event's processing record.

mod apply;
mod auth;
mod event;
mod groups;
mod plugins;
mod timers;

pub use auth::hash_token;
pub use event::EventOutcome;
pub use groups::GroupInput;
pub use plugins::{check_schema, EnableInput, MAX_PLUGIN_BYTES};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::*;
use crate::runtime::Runtime;
use crate::store::{Store, StoreError};

/// Errors a caller of the service can act on; HTTP maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but breaks a rule (e.g. config vs schema).
    #[error("{0}")]
    Unprocessable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::InsufficientFunds(m) | StoreError::Rejected(m) => {
                ServiceError::Unprocessable(m)
            }
            StoreError::Invalid(m) => ServiceError::Internal(anyhow::anyhow!(m)),
            StoreError::Db(e) => ServiceError::Internal(e.into()),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Where "now" comes from: the system clock, or a fixed one moved by tests.
#[derive(Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<Millis>>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock { fixed: None }
    }
    pub fn manual(start: Millis) -> Self {
        Clock {
            fixed: Some(Arc::new(Mutex::new(start))),
        }
    }
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
    pub store: Store,
    pub runtime: Arc<Runtime>,
    pub clock: Clock,
    /// Events of one group are processed one at a time, in arrival order.
    group_locks: Mutex<HashMap<GroupId, Arc<tokio::sync::Mutex<()>>>>,
    /// When set, every invocation's full report is kept here (conformance).
    observed: Mutex<Option<Vec<Observed>>>,
    /// Requests need a token (see `auth.rs`).
    auth_required: std::sync::atomic::AtomicBool,
}

/// One invocation as the conformance suite sees it.
#[derive(Debug, Clone)]
pub struct Observed {
    pub group: GroupId,
    pub plugin: String,
    pub handler: String,
    pub failure: Option<crate::runtime::Failure>,
    pub error: Option<String>,
    pub fuel_used: u64,
    pub peak_memory: usize,
    pub duration: std::time::Duration,
    pub effects: Vec<Effect>,
}

impl Kith {
    pub fn new(store: Store, runtime: Arc<Runtime>, clock: Clock) -> Arc<Kith> {
        Arc::new(Kith {
            store,
            runtime,
            clock,
            group_locks: Mutex::new(HashMap::new()),
            observed: Mutex::new(None),
            auth_required: Default::default(),
        })
    }

    /// Starts keeping every invocation's report, for `take_observed`.
    pub fn observe(&self) {
        *self.observed.lock().expect("observed") = Some(vec![]);
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

    fn group_lock(&self, group: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.group_locks
            .lock()
            .expect("locks")
            .entry(group.to_string())
            .or_default()
            .clone()
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
