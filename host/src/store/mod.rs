//! Storage: one implementation over sqlx's `Any` driver, so SQLite (the
//! embedded default) and Postgres run the same queries and the same tests.
//!
//! The SQL is kept portable: `$n` placeholders (SQLite accepts them too),
//! BIGINT for every number, JSON as text, `CAST(.. AS BIGINT)` around sums.
//!
//! One file per entity holds its row type and decoder, its reads (`impl
//! Store`, straight from the pool) and its writes (`impl Tx`, in
//! `tx.rs`'s transaction).

mod audit;
mod cache;
mod changes;
mod events;
mod groups;
mod join_requests;
mod ledger;
mod member_data;
mod members;
mod messages;
mod outbox;
mod plugins;
mod referral_codes;
mod retention;
mod shadow;
mod stats;
mod storage;
mod timers;
mod tokens;
mod tx;
mod webhooks;

pub use changes::Change;
pub use events::{Invocation, RecordedEvent};
pub use ledger::{Paid, Transfer};
pub use member_data::{AssetBalance, Erasure, MemberData, StoredValue};
pub use members::MemberFilter;
pub use outbox::{LeaseRequest, OutboxState, MAX_DELIVERY_ATTEMPTS};
pub use plugins::{Enablement, InstalledPlugin, PinnedVersion, Shadow};
pub use retention::{DatabaseStats, Prunable, COUNTED_TABLES};
pub use shadow::ShadowRun;
pub use stats::{Activity, FunnelCounts};
pub use timers::Timer;
pub use tokens::Token;
pub use tx::Tx;

/// The database file of a `sqlite://FILE[?options]` URL; `None` for an
/// in-memory database or another scheme.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    url.starts_with("sqlite:")
        .then(|| sqlite_file(url))
        .flatten()
}

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::*;

/// What a store call can fail with; callers match on the kind.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row; the text names what was looked for, e.g. `member "amy"`.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique key is taken, or a write clashes with the stored state.
    #[error("{0}")]
    Conflict(String),
    /// A transfer would take an account below zero.
    #[error("{0}")]
    InsufficientFunds(String),
    /// An amount or balance would pass its ceiling (`domain::bounds`).
    #[error("{0}")]
    Limit(String),
    /// A write the store refuses (e.g. a non-positive transfer), or stored data
    /// that does not parse.
    #[error("{0}")]
    Invalid(String),
    /// The caller asked for something the store refuses (a transfer of
    /// nothing, to the same account): a 422, where `Invalid` is a fault.
    #[error("{0}")]
    Rejected(String),
    /// Anything the database reports otherwise.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// A store call's result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (`sqlite:` URL).
    Sqlite,
    /// A Postgres server (`postgres:` URL), shared by several kith processes.
    Postgres,
}

/// The database, with its in-memory cache; cheap to clone.
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
    /// Postgres: the URL, for the connection that listens for changes.
    url: Option<String>,
    /// Postgres: how many group turns (`begin_group_turn`) may hold a
    /// connection at once.
    turn_slots: Arc<tokio::sync::Semaphore>,
    /// SQLite: this process's claim on the database file (see `ProcessLock`).
    process_lock: Arc<std::sync::Mutex<Option<ProcessLock>>>,
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

/// The Postgres connections of one process's pool. Three processes take 48
/// of the server's default `max_connections` (100).
const PG_CONNECTIONS: u32 = 16;

/// The most rows a list returns, whatever is asked.
pub const MAX_LIST: u32 = 1000;

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
        // Taken before the pool opens the file, held until `close`.
        let process_lock = match backend {
            Backend::Sqlite => sqlite_file(url).map(ProcessLock::take).transpose()?,
            Backend::Postgres => None,
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
            options = options.max_connections(PG_CONNECTIONS);
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
            url: (backend == Backend::Postgres).then(|| url.clone()),
            turn_slots: Arc::new(tokio::sync::Semaphore::new(PG_CONNECTIONS as usize / 2)),
            process_lock: Arc::new(std::sync::Mutex::new(process_lock)),
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

    /// A view that reads groups, enablements and plugins from the database,
    /// not from this process's cache: for a read-then-write in a group's
    /// turn, where a row another process changed a moment ago (its
    /// notification still on the way) must not be written back stale.
    pub fn uncached(&self) -> Store {
        Store {
            cache: Default::default(),
            ..self.clone()
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool's connections.
    pub async fn close(&self) {
        self.pool.close().await;
        self.process_lock.lock().expect("process lock").take();
    }
}

// ---- JSON and text columns, shared by every entity ----

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Invalid(format!("stored JSON is malformed: {e}")))
}

fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse().map_err(StoreError::Invalid)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serializes")
}

/// The database file of a `sqlite://FILE[?options]` URL; `None` for an
/// in-memory database.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

/// SQLite is the single-process default: the caches, the per-group order
/// and the writer turn live in one process's memory, so a second process on
/// the same file would break them silently. An exclusive lock on
/// `<file>.lock` (released by the kernel if the process dies) refuses it;
/// `kith restore` takes it too, so that it never writes under a server.
pub struct ProcessLock {
    _file: std::fs::File,
}

impl ProcessLock {
    /// Takes the lock of the SQLite file `db`, held until dropped.
    ///
    /// # Errors
    /// Another process holds it (the message names its pid), or the lock
    /// file cannot be opened.
    pub fn take(db: std::path::PathBuf) -> anyhow::Result<ProcessLock> {
        use std::io::{Read, Seek, Write};
        let mut path = db.clone().into_os_string();
        path.push(".lock");
        let path = std::path::PathBuf::from(path);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        if file.try_lock().is_err() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            anyhow::bail!(
                "{} is in use by another kith process (pid {}): SQLite serves one process; \
                 stop it, or use Postgres to run several",
                db.display(),
                holder.trim()
            );
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        Ok(ProcessLock { _file: file })
    }
}
