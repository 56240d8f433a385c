//! `kith serve`: run the host.

use anyhow::bail;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::app;
use crate::domain::Limits;
use crate::edge::{EdgeConfig, Rate};
use crate::retention::{self, Retention};

/// Runs the host until it is stopped.
#[derive(clap::Args)]
pub struct ServeCommand {
    #[arg(long, env = "KITH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// sqlite://FILE or postgres://… (default: SQLite in the data dir).
    #[arg(long, env = "KITH_DATABASE_URL")]
    database: Option<String>,
    #[arg(long, env = "KITH_DATA_DIR", default_value = "kith-data")]
    data_dir: PathBuf,
    /// Install every .wasm file of this folder at start.
    #[arg(long)]
    install: Option<PathBuf>,
    /// The admin API token (16+ characters). Once any token exists every
    /// request needs one; without tokens the API is open, which is only
    /// allowed on a loopback address.
    #[arg(long, env = "KITH_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// How often due timers are looked for, in milliseconds.
    #[arg(long, default_value_t = 250)]
    timer_every_ms: u64,
    #[command(flatten)]
    edge: EdgeArgs,
    #[command(flatten)]
    ceilings: Ceilings,
    #[command(flatten)]
    retention: RetentionArgs,
}

/// How long processing records are kept (see `kith::retention`): a number
/// and a unit (`30d`, `12h`, `10m`, `90s`), or `off` to keep them forever.
#[derive(clap::Args)]
struct RetentionArgs {
    /// Processed events (the duplicate check: a retry older than this is
    /// processed again) and dead outbox actions never acknowledged.
    #[arg(long, env = "KITH_RETAIN_EVENTS", default_value = "30d", value_parser = window)]
    retain_events: Window,
    /// What replays and shadow runs of past events need: events,
    /// invocations (their effects) and shadow runs are kept for the longer
    /// of this and their own window.
    #[arg(long, env = "KITH_REPLAY_WINDOW", default_value = "30d", value_parser = window)]
    replay_window: Window,
    /// Plugin invocation records (logs, effects) and shadow runs; at
    /// least the replay window.
    #[arg(long, env = "KITH_RETAIN_INVOCATIONS", default_value = "14d", value_parser = window)]
    retain_invocations: Window,
    /// Outbox actions after their acknowledgement.
    #[arg(long, env = "KITH_RETAIN_ACKED_OUTBOX", default_value = "7d", value_parser = window)]
    retain_acked_outbox: Window,
    /// Messages (plugins read recent ones: keep more than their longest
    /// look back). Default: kept forever.
    #[arg(long, env = "KITH_RETAIN_MESSAGES", default_value = "off", value_parser = window)]
    retain_messages: Window,
    /// How often pruning runs, in seconds.
    #[arg(long, env = "KITH_PRUNE_EVERY_SECS", default_value_t = 60)]
    prune_every_secs: u64,
    /// Rows deleted per statement (each its own short transaction).
    #[arg(long, env = "KITH_PRUNE_BATCH", default_value_t = 1000)]
    prune_batch: u32,
    /// Pause between two batches, in milliseconds.
    #[arg(long, env = "KITH_PRUNE_PAUSE_MS", default_value_t = 50)]
    prune_pause_ms: u64,
    /// How often the database size and row counts are logged, in seconds.
    #[arg(long, env = "KITH_SIZE_LOG_EVERY_SECS", default_value_t = 3600)]
    size_log_every_secs: u64,
}

/// A retention window in milliseconds; `None`: forever.
#[derive(Clone, Copy)]
struct Window(Option<i64>);

fn window(text: &str) -> Result<Window, String> {
    crate::retention::parse_window(text).map(Window)
}

impl RetentionArgs {
    fn policy(&self) -> Retention {
        Retention {
            events: self.retain_events.0,
            replay: self.replay_window.0,
            invocations: self.retain_invocations.0,
            acked_outbox: self.retain_acked_outbox.0,
            messages: self.retain_messages.0,
            batch: self.prune_batch.max(1),
            pause: Duration::from_millis(self.prune_pause_ms),
            every: Duration::from_secs(self.prune_every_secs.max(1)),
        }
    }
}

/// Connection caps, timeouts and request rates (see `kith::edge`); a rate
/// of 0 turns that limit off. Limits are per process.
#[derive(clap::Args)]
struct EdgeArgs {
    /// Open connections at most; at the cap a new one closes the longest idle.
    #[arg(long, env = "KITH_MAX_CONNECTIONS", default_value_t = EdgeConfig::default().max_connections)]
    max_connections: usize,
    /// Time for a request's headers to arrive, in milliseconds.
    #[arg(long, env = "KITH_HEADER_TIMEOUT_MS", default_value_t = ms(EdgeConfig::default().header_timeout))]
    header_timeout_ms: u64,
    /// Time for a request's body to arrive after its headers, in milliseconds.
    #[arg(long, env = "KITH_BODY_TIMEOUT_MS", default_value_t = ms(EdgeConfig::default().body_timeout))]
    body_timeout_ms: u64,
    /// A connection with no request in progress this long is closed (ms).
    #[arg(long, env = "KITH_IDLE_TIMEOUT_MS", default_value_t = ms(EdgeConfig::default().idle_timeout))]
    idle_timeout_ms: u64,
    /// Requests per second per API token.
    #[arg(long, env = "KITH_TOKEN_RATE", default_value_t = EdgeConfig::default().token_rate.per_second)]
    token_rate: f64,
    /// Requests a token may send at once after a quiet spell.
    #[arg(long, env = "KITH_TOKEN_BURST", default_value_t = EdgeConfig::default().token_rate.burst)]
    token_burst: f64,
    /// Requests per second per client IP address (all but /healthz).
    #[arg(long, env = "KITH_IP_RATE", default_value_t = EdgeConfig::default().ip_rate.per_second)]
    ip_rate: f64,
    /// Requests an address may send at once after a quiet spell.
    #[arg(long, env = "KITH_IP_BURST", default_value_t = EdgeConfig::default().ip_rate.burst)]
    ip_burst: f64,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl EdgeArgs {
    fn config(&self) -> EdgeConfig {
        EdgeConfig {
            max_connections: self.max_connections,
            header_timeout: Duration::from_millis(self.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(self.body_timeout_ms.max(1)),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms.max(1)),
            token_rate: Rate {
                per_second: self.token_rate,
                burst: self.token_burst,
            },
            ip_rate: Rate {
                per_second: self.ip_rate,
                burst: self.ip_burst,
            },
        }
    }
}

/// The most an operator may give one plugin enablement (`limits`); an
/// enable call above a ceiling gets a 422 naming it.
#[derive(clap::Args)]
struct Ceilings {
    /// Ceiling of `memory_bytes`, per instance.
    #[arg(long, env = "KITH_MAX_MEMORY_BYTES", default_value_t = Limits::DEFAULT_CEILINGS.memory_bytes)]
    max_memory_bytes: u64,
    /// Ceiling of `timeout_ms`, per invocation.
    #[arg(long, env = "KITH_MAX_TIMEOUT_MS", default_value_t = Limits::DEFAULT_CEILINGS.timeout_ms)]
    max_timeout_ms: u64,
    /// Ceiling of `fuel`, per invocation.
    #[arg(long, env = "KITH_MAX_FUEL", default_value_t = Limits::DEFAULT_CEILINGS.fuel)]
    max_fuel: u64,
    /// Ceiling of `max_effects`, per invocation.
    #[arg(long, env = "KITH_MAX_EFFECTS", default_value_t = Limits::DEFAULT_CEILINGS.max_effects)]
    max_effects: u32,
    /// Ceiling of `storage_bytes`, per plugin and group.
    #[arg(long, env = "KITH_MAX_STORAGE_BYTES", default_value_t = Limits::DEFAULT_CEILINGS.storage_bytes)]
    max_storage_bytes: u64,
    /// Ceiling of `messages_per_minute`, per plugin and group.
    #[arg(long, env = "KITH_MAX_MESSAGES_PER_MINUTE", default_value_t = Limits::DEFAULT_CEILINGS.messages_per_minute)]
    max_messages_per_minute: u32,
}

impl Ceilings {
    fn limits(&self) -> Limits {
        Limits {
            memory_bytes: self.max_memory_bytes,
            timeout_ms: self.max_timeout_ms,
            fuel: self.max_fuel,
            max_effects: self.max_effects,
            storage_bytes: self.max_storage_bytes,
            messages_per_minute: self.max_messages_per_minute,
        }
    }
}

impl ServeCommand {
    /// Opens the store and serves at once, while `--install` is installed and
    /// every plugin compiled in the background.
    ///
    /// # Errors
    /// A store that cannot open, an open API on a non-loopback address, a
    /// plugin that cannot be installed, an address that cannot be bound.
    pub async fn execute(self) -> anyhow::Result<()> {
        let kith = app::open(
            &self.data_dir,
            self.database.as_deref(),
            crate::dispatch::Clock::system(),
        )
        .await?;
        kith.set_ceilings(self.ceilings.limits());
        if let Some(secret) = &self.admin_token {
            kith.bootstrap_admin(secret).await?;
        }
        let listen = self.listen;
        if !kith.auth_required() && !listen.ip().is_loopback() {
            bail!("refusing to serve an open API on {listen}: set KITH_ADMIN_TOKEN (or --admin-token) to require tokens");
        }
        // Listen at once; plugins are installed and compiled meanwhile.
        let preparing = app::prepare_plugins(kith.clone(), self.install.clone());
        let _stop_preparing_on_exit = AbortOnDrop(preparing);
        let auth = if kith.auth_required() {
            "API tokens required"
        } else {
            "open API (loopback only)"
        };
        let policy = self.retention.policy();
        tracing::info!(
            "retention: events {}, replay window {}, invocations {}, acked outbox actions {}, messages {}",
            shown(policy.events),
            shown(policy.replay),
            shown(policy.invocations),
            shown(policy.acked_outbox),
            shown(policy.messages),
        );
        let _pruner = AbortOnDrop(retention::spawn_pruner(kith.clone(), policy));
        let _size_log = AbortOnDrop(retention::spawn_size_log(
            kith.clone(),
            Duration::from_secs(self.retention.size_log_every_secs),
        ));
        let data_dir = self.data_dir;
        app::serve_with_edge(
            kith,
            listen,
            Duration::from_millis(self.timer_every_ms.max(10)),
            &self.edge.config(),
            |addr| {
                println!(
                    "kith listening on http://{addr} ({auth}, data in {}; plugins compile in the background)",
                    data_dir.display()
                );
                println!("try: curl http://{addr}/v1/plugins");
            },
        )
        .await
    }
}

/// A window for the log: `30d`, `90s`, or `forever`.
fn shown(window: Option<i64>) -> String {
    match window {
        None => "forever".into(),
        Some(ms) if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        Some(ms) if ms % 1000 == 0 => format!("{}s", ms / 1000),
        Some(ms) => format!("{ms}ms"),
    }
}

/// Stops a background task (preparation, pruning, the size log) when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
