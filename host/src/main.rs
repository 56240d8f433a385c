//! The `kith` command: run the host, and manage a running host from a shell.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "kith",
    version,
    about = "A WebAssembly plugin host for online community operations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host.
    Serve {
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
    },
    /// Check a plugin file without a server: its world, metadata, handlers on
    /// generated events, determinism, budget, isolation and its scenarios.
    /// Exits 0 only if every check passes.
    Test {
        file: PathBuf,
        /// A folder of scenario files (.yaml, .yml, .json).
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// Also write the results as JUnit XML.
        #[arg(long)]
        junit: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many events to generate.
        #[arg(long, default_value_t = 300)]
        events: usize,
        /// Budget per invocation (defaults: the host's defaults).
        #[arg(long)]
        fuel: Option<u64>,
        #[arg(long)]
        memory_bytes: Option<u64>,
        #[arg(long)]
        timeout_ms: Option<u64>,
        /// Keep compiled code here between runs (default: ~/.cache/kith).
        #[arg(long, env = "KITH_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Manage plugins on a running host.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Manage groups on a running host.
    Group {
        #[command(subcommand)]
        command: GroupCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Print the OpenAPI document of the HTTP API (what GET /openapi.json
    /// serves), e.g. to regenerate host/src/http/openapi.json.
    Openapi,
    /// Generate load on a running host: groups, members, plugins, then
    /// message events; prints events/s and latency percentiles.
    Load(kith::loadgen::LoadArgs),
}

/// Where a running host is, and the token to call it with.
#[derive(clap::Args)]
struct Remote {
    #[arg(
        long,
        env = "KITH_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    server: String,
    /// An API token, when the host requires one.
    #[arg(long, env = "KITH_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Create a buildable plugin skeleton with a scenario (no server needed).
    New {
        name: String,
        /// entry-gate, activity-game or conversion-flow.
        #[arg(long)]
        kind: kith::domain::PluginKind,
        #[arg(long, default_value = "rust")]
        lang: kith::scaffold::Lang,
        /// Where to create the plugin's folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Upload a plugin file (a component or a wit-bindgen core module).
    Install { file: PathBuf },
    /// List installed plugins.
    List,
    /// Enable (or reconfigure) a plugin on a group.
    Enable {
        group: String,
        plugin: String,
        /// The plugin's config, as JSON.
        #[arg(long, default_value = "{}")]
        config: String,
        #[arg(long)]
        position: Option<i64>,
    },
    /// Disable a plugin on a group.
    Disable { group: String, plugin: String },
    /// Show a group's enabled plugins.
    Enabled { group: String },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group.
    Create {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long)]
        capacity: Option<u32>,
        #[arg(long)]
        parent: Option<String>,
    },
    /// List groups.
    List,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // `kith test` reports failures itself; the log would repeat them.
    let default_filter = if matches!(cli.command, Command::Test { .. }) {
        "error"
    } else {
        "kith=info,warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .init();
    match cli.command {
        Command::Test {
            file,
            scenarios,
            junit,
            seed,
            events,
            fuel,
            memory_bytes,
            timeout_ms,
            cache_dir,
        } => {
            let wasm =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let defaults = kith::domain::Limits::default();
            let limits = kith::domain::Limits {
                fuel: fuel.unwrap_or(defaults.fuel),
                memory_bytes: memory_bytes.unwrap_or(defaults.memory_bytes),
                timeout_ms: timeout_ms.unwrap_or(defaults.timeout_ms),
                ..defaults
            };
            let cache_dir = cache_dir
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kith")));
            let opts = kith::conformance::Options {
                seed,
                events,
                limits,
                cache_dir,
            };
            let report = kith::conformance::run(&wasm, scenarios.as_deref(), &opts).await?;
            println!("kith test {}", file.display());
            print!("{}", report.render());
            if let Some(path) = junit {
                std::fs::write(&path, kith::conformance::junit::render(&report))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if !report.passed() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Serve {
            listen,
            database,
            data_dir,
            install,
            admin_token,
            timer_every_ms,
        } => {
            let kith = kith::app::open(
                &data_dir,
                database.as_deref(),
                kith::dispatch::Clock::system(),
            )
            .await?;
            if let Some(secret) = admin_token {
                kith.bootstrap_admin(&secret).await?;
            }
            if !kith.auth_required() && !listen.ip().is_loopback() {
                bail!("refusing to serve an open API on {listen}: set KITH_ADMIN_TOKEN (or --admin-token) to require tokens");
            }
            if let Some(dir) = install {
                let names = kith::app::install_dir(&kith, &dir).await?;
                println!(
                    "installed {} plugin(s) from {}: {}",
                    names.len(),
                    dir.display(),
                    names.join(", ")
                );
            }
            let warmed = kith.warm_up().await?;
            let auth = if kith.auth_required() {
                "API tokens required"
            } else {
                "open API (loopback only)"
            };
            kith::app::serve(
                kith,
                listen,
                Duration::from_millis(timer_every_ms.max(10)),
                |addr| {
                    println!(
                        "kith listening on http://{addr} ({warmed} plugin(s) ready, {auth}, data in {})",
                        data_dir.display()
                    );
                    println!("try: curl http://{addr}/v1/plugins");
                },
            )
            .await
        }
        Command::Plugin { command, remote } => {
            let client = Client::new(remote);
            match command {
                PluginCommand::New {
                    name,
                    kind,
                    lang,
                    dir,
                } => {
                    let root = kith::scaffold::new_plugin(&dir, &name, kind, lang)?;
                    println!(
                        "created {}: build it with {}/build.sh, then run",
                        root.display(),
                        root.display()
                    );
                    println!(
                        "  kith test {0}/{1}.wasm --scenarios {0}/scenarios",
                        root.display(),
                        name
                    );
                    Ok(())
                }
                PluginCommand::Install { file } => {
                    let bytes = std::fs::read(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    client
                        .send(
                            client
                                .http
                                .post(client.url("/v1/plugins"))
                                .header("content-type", "application/wasm")
                                .body(bytes),
                        )
                        .await
                }
                PluginCommand::List => {
                    client
                        .send(client.http.get(client.url("/v1/plugins")))
                        .await
                }
                PluginCommand::Enable {
                    group,
                    plugin,
                    config,
                    position,
                } => {
                    let config: serde_json::Value =
                        serde_json::from_str(&config).context("--config is not JSON")?;
                    let body = serde_json::json!({"config": config, "position": position});
                    client
                        .send(
                            client
                                .http
                                .put(client.url(&format!("/v1/groups/{group}/plugins/{plugin}")))
                                .json(&body),
                        )
                        .await
                }
                PluginCommand::Disable { group, plugin } => {
                    client
                        .send(
                            client.http.delete(
                                client.url(&format!("/v1/groups/{group}/plugins/{plugin}")),
                            ),
                        )
                        .await
                }
                PluginCommand::Enabled { group } => {
                    client
                        .send(
                            client
                                .http
                                .get(client.url(&format!("/v1/groups/{group}/plugins"))),
                        )
                        .await
                }
            }
        }
        Command::Openapi => {
            print!("{}", kith::http::openapi_json());
            Ok(())
        }
        Command::Load(args) => kith::loadgen::main(args).await,
        Command::Group { command, remote } => {
            let client = Client::new(remote);
            match command {
                GroupCommand::Create {
                    id,
                    name,
                    timezone,
                    capacity,
                    parent,
                } => {
                    let body = serde_json::json!({"id": id, "name": name, "timezone": timezone, "capacity": capacity, "parent": parent});
                    client
                        .send(client.http.post(client.url("/v1/groups")).json(&body))
                        .await
                }
                GroupCommand::List => client.send(client.http.get(client.url("/v1/groups"))).await,
            }
        }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(remote: Remote) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = remote.token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .expect("a token is printable");
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("an HTTP client");
        Client {
            http,
            base: remote.server.trim_end_matches('/').to_string(),
        }
    }
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    /// Prints the JSON answer; a 4xx/5xx answer is an error exit.
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<()> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach kith at {}", self.base))?;
        let status = response.status();
        let text = response.text().await?;
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .map(|v| serde_json::to_string_pretty(&v).expect("json"))
            .unwrap_or(text);
        if status.is_success() {
            println!("{pretty}");
            Ok(())
        } else {
            bail!("{status}: {pretty}")
        }
    }
}
