//! `kith serve`: run the host.

use anyhow::bail;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::app;
use crate::domain::Limits;
use crate::edge::{EdgeConfig, Rate};

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

/// Stops the background preparation when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
