//! `kith load`: a load generator for a running host, over HTTP.
//!
//! Sets up G groups of M members with the chosen plugins enabled (installing
//! missing plugins from a folder of .wasm files), then sends N message events
//! over C connections, either as fast as they are answered or paced at R
//! events/s, and reports throughput and latency percentiles.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

/// The plugins enabled per group unless `--plugins` says otherwise.
pub const DEFAULT_PLUGINS: &[&str] = &["daily-checkin", "referral-fission", "ad-filter"];

/// What one `kith load` run sends, and to which host.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL of the kith host, e.g. `http://127.0.0.1:8080`; several,
    /// comma-separated, for kith processes sharing one Postgres: the
    /// connections are spread over them, the setup goes to the first.
    pub server: String,
    /// An API token, when the host requires one.
    pub token: Option<String>,
    /// Number of groups the events are spread over (round-robin).
    pub groups: usize,
    /// Members per group.
    pub members: usize,
    /// Message events to send in all.
    pub events: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Plugins enabled on every group, installed first if missing.
    pub plugins: Vec<String>,
    /// Where missing plugins are installed from (`<dir>/<name>.wasm`).
    pub plugin_dir: PathBuf,
    /// Events per second; `None`: as fast as the host answers.
    pub rate: Option<f64>,
    /// Prefix of group ids (`<prefix>-<i>`), so runs can share a host.
    pub group_prefix: String,
    /// One event in `checkin_every` is a check-in, the rest plain text.
    pub checkin_every: usize,
    /// Every event says this text (no check-ins), e.g. a hostile plugin's command.
    pub text: Option<String>,
    /// Send `GET /healthz` instead of events: the HTTP floor of the machine.
    pub floor: bool,
    /// Do not create groups, members and enablements (an earlier run did).
    pub skip_setup: bool,
}

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Events (with `floor`: health requests) sent.
    pub events: usize,
    /// Events that failed (transport error or non-2xx answer).
    pub errors: usize,
    /// Wall time of the sending phase, setup excluded.
    pub elapsed: Duration,
    /// Wall time of the setup: groups, members, plugins.
    pub setup: Duration,
    /// Sorted latencies of the successful events.
    pub latencies: Vec<Duration>,
    /// The first failure, to show what went wrong.
    pub first_error: Option<String>,
}

impl Report {
    /// Events per second over the sending phase.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0..=1), nearest rank.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1]
    }

    /// The report as text for the terminal: throughput, errors, latency
    /// percentiles, and the options that produced it.
    pub fn render(&self, opts: &Options) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mode = match opts.rate {
            Some(r) => format!("paced at {r:.0} events/s"),
            None => "full speed".into(),
        };
        let what = if opts.floor {
            format!(
                "load: {} requests GET /healthz (the HTTP floor), {} connections, {mode}\n",
                self.events, opts.concurrency
            )
        } else {
            format!(
                "load: {} events, {} groups x {} members, plugins {}, {} connections, {mode}\n",
                self.events,
                opts.groups,
                opts.members,
                opts.plugins.join(","),
                opts.concurrency
            )
        };
        let mut out = what
            + &format!(
                "setup {:.1} s; sent in {:.2} s: {:.0} events/s, {} errors\n\
                 latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}\n",
                self.setup.as_secs_f64(),
                self.elapsed.as_secs_f64(),
                self.events_per_sec(),
                self.errors,
                ms(self.percentile(0.50)),
                ms(self.percentile(0.90)),
                ms(self.percentile(0.99)),
                ms(self.latencies.last().copied().unwrap_or_default()),
            );
        if let Some(e) = &self.first_error {
            out += &format!("first error: {e}\n");
        }
        // One line for scripts.
        out += &format!(
            "RESULT events_per_sec={:.0} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={}\n",
            self.events_per_sec(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.90)),
            ms(self.percentile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.errors
        );
        out
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// One client is one keep-alive connection at a time here: every worker
    /// gets its own, so `--concurrency` is the number of connections.
    /// Connection `which` goes to the `which`-th server, round-robin.
    fn new(opts: &Options, which: usize) -> anyhow::Result<Api> {
        let servers: Vec<&str> = opts.server.split(',').map(str::trim).collect();
        let http = crate::cli::remote::authorized(opts.token.as_deref())?
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        Ok(Api {
            http,
            base: servers[which % servers.len()]
                .trim_end_matches('/')
                .to_string(),
        })
    }

    /// Sends a request; returns the status and the body as text.
    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<(u16, String)> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach kith at {}", self.base))?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await?))
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<(u16, String)> {
        self.send(
            self.http
                .request(method, format!("{}{path}", self.base))
                .json(&body),
        )
        .await
    }
}

fn ok_or(status: u16, body: &str, what: &str, allowed: &[u16]) -> anyhow::Result<()> {
    if (200..300).contains(&status) || allowed.contains(&status) {
        Ok(())
    } else {
        bail!("{what}: {status}: {body}")
    }
}

fn group_id(opts: &Options, i: usize) -> String {
    format!("{}-{i}", opts.group_prefix)
}

fn member_id(i: usize) -> String {
    format!("m{i}")
}

/// Installs the missing plugins, then creates the groups, their members and
/// enablements, `concurrency` requests at a time. Existing groups and
/// members are kept (a 409 is fine), so a second run reuses them.
async fn setup(opts: &Options) -> anyhow::Result<()> {
    let api = Api::new(opts, 0)?;
    for name in &opts.plugins {
        let (status, _) = api
            .send(api.http.get(format!("{}/v1/plugins/{name}", api.base)))
            .await?;
        if status == 404 {
            let path = opts.plugin_dir.join(format!("{name}.wasm"));
            let bytes = std::fs::read(&path).with_context(|| {
                format!(
                    "plugin {name} is not installed and {} cannot be read",
                    path.display()
                )
            })?;
            let (status, body) = api
                .send(
                    api.http
                        .post(format!("{}/v1/plugins", api.base))
                        .header("content-type", "application/wasm")
                        .body(bytes),
                )
                .await?;
            ok_or(status, &body, &format!("installing {name}"), &[])?;
        }
    }
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (opts, next) = (opts.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let api = Api::new(&opts, 0)?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= opts.groups {
                    return Ok::<(), anyhow::Error>(());
                }
                let g = group_id(&opts, i);
                let body = json!({"id": g, "name": format!("Load group {i}"), "timezone": "Asia/Shanghai"});
                let (s, b) = api.json(reqwest::Method::POST, "/v1/groups", body).await?;
                ok_or(s, &b, &format!("creating group {g}"), &[409])?;
                for m in 0..opts.members {
                    let role = if m == 0 { "owner" } else { "member" };
                    let body = json!({"member": member_id(m), "role": role, "display_name": format!("Member {m}")});
                    let (s, b) = api.json(reqwest::Method::POST, &format!("/v1/groups/{g}/members"), body).await?;
                    ok_or(s, &b, &format!("adding {} to {g}", member_id(m)), &[409])?;
                }
                for p in &opts.plugins {
                    let (s, b) = api
                        .json(reqwest::Method::PUT, &format!("/v1/groups/{g}/plugins/{p}"), json!({"config": {}}))
                        .await?;
                    ok_or(s, &b, &format!("enabling {p} on {g}"), &[])?;
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// The i-th event of a run: round-robin over groups, members in turn, one
/// in `checkin_every` a check-in.
fn event(opts: &Options, run: &str, i: usize) -> Value {
    let g = i % opts.groups;
    let m = (i / opts.groups) % opts.members.max(1);
    // A hash, not `i % n`: with round-robin over groups a modulus would
    // give the check-ins of a group to the same few members.
    let mix = mix64(i as u64);
    let text = if let Some(fixed) = &opts.text {
        fixed.clone()
    } else if mix.is_multiple_of(opts.checkin_every.max(1) as u64) {
        if (mix >> 32).is_multiple_of(2) {
            "/checkin".to_string()
        } else {
            "签到".to_string()
        }
    } else {
        format!("hello from {} #{i}, nice photos today", member_id(m))
    };
    json!({
        "id": format!("load-{run}-{i}"),
        "group": group_id(opts, g),
        "type": "message",
        "sender": member_id(m),
        "text": text,
    })
}

/// SplitMix64's finalizer: a well-spread hash of an event number.
fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs the setup (unless skipped) and the load.
///
/// # Errors
/// When the setup fails or the host cannot be reached.
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    if opts.groups == 0 || opts.members == 0 {
        bail!("--groups and --members must be at least 1");
    }
    let started = Instant::now();
    if !opts.skip_setup && !opts.floor {
        setup(opts).await?;
    }
    let setup_time = started.elapsed();
    // Event ids unique per run: the host is idempotent by id.
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let begin = Instant::now();
    let mut tasks = Vec::new();
    for which in 0..opts.concurrency.max(1) {
        let (opts, next, run_id) = (opts.clone(), next.clone(), run_id.clone());
        tasks.push(tokio::spawn(async move {
            let api = Api::new(&opts, which)?;
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            let url = format!("{}/v1/events", api.base);
            let floor_url = format!("{}/healthz", api.base);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= opts.events {
                    break;
                }
                // Paced: latency counts from when the event was due, so a
                // host that falls behind shows it (no coordinated omission).
                let t0 = match opts.rate {
                    Some(rate) => {
                        let due = begin + Duration::from_secs_f64(i as f64 / rate);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let request = if opts.floor {
                    api.http.get(&floor_url)
                } else {
                    api.http.post(&url).json(&event(&opts, &run_id, i))
                };
                match api.send(request).await {
                    Ok((200..=299, _)) => latencies.push(t0.elapsed()),
                    Ok((status, text)) => {
                        errors += 1;
                        first_error.get_or_insert(format!("{status}: {text}"));
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(format!("{e:#}"));
                    }
                }
            }
            Ok::<_, anyhow::Error>((latencies, errors, first_error))
        }));
    }
    let mut latencies = Vec::with_capacity(opts.events);
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let (l, e, f) = t.await??;
        latencies.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let elapsed = begin.elapsed();
    latencies.sort();
    Ok(Report {
        events: opts.events,
        errors,
        elapsed,
        setup: setup_time,
        latencies,
        first_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            server: "http://127.0.0.1:1".into(),
            token: None,
            groups: 3,
            members: 2,
            events: 10,
            concurrency: 1,
            plugins: vec![],
            plugin_dir: "target/plugins".into(),
            rate: None,
            group_prefix: "load".into(),
            checkin_every: 4,
            text: None,
            floor: false,
            skip_setup: true,
        }
    }

    #[test]
    fn events_go_round_robin_with_unique_ids() {
        let o = opts();
        let evs: Vec<Value> = (0..6).map(|i| event(&o, "r", i)).collect();
        let groups: Vec<&str> = evs.iter().map(|e| e["group"].as_str().unwrap()).collect();
        assert_eq!(
            groups,
            ["load-0", "load-1", "load-2", "load-0", "load-1", "load-2"]
        );
        assert_eq!(evs[3]["sender"], "m1");
        let checkins = (0..4000)
            .filter(|&i| {
                matches!(
                    event(&o, "r", i)["text"].as_str(),
                    Some("/checkin" | "签到")
                )
            })
            .count();
        assert!(
            (800..1200).contains(&checkins),
            "{checkins} check-ins in 4000 events"
        );
        // Every member of a group checks in at some point.
        let mut who: Vec<String> = (0..4000)
            .map(|i| event(&o, "r", i))
            .filter(|e| e["group"] == "load-0" && e["text"] == "/checkin")
            .map(|e| e["sender"].as_str().unwrap().to_string())
            .collect();
        who.sort();
        who.dedup();
        assert_eq!(who, ["m0", "m1"]);
        let mut ids: Vec<&str> = evs.iter().map(|e| e["id"].as_str().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 6);
        let fixed = Options {
            text: Some("loop".into()),
            ..o
        };
        assert!((0..100).all(|i| event(&fixed, "r", i)["text"] == "loop"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let r = Report {
            events: 100,
            errors: 0,
            elapsed: Duration::from_secs(1),
            setup: Duration::ZERO,
            latencies: (1..=100).map(Duration::from_millis).collect(),
            first_error: None,
        };
        assert_eq!(r.percentile(0.5), Duration::from_millis(50));
        assert_eq!(r.percentile(0.99), Duration::from_millis(99));
        assert_eq!(r.percentile(1.0), Duration::from_millis(100));
        assert_eq!(r.events_per_sec(), 100.0);
    }
}

/// The `kith load` command line.
#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// Base URL of the kith host; several, comma-separated, spread the
    /// connections over kith processes sharing one Postgres.
    #[arg(long, env = "KITH_URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// An API token, when the host requires one.
    #[arg(long, env = "KITH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Number of groups (`<prefix>-<i>`) the events are spread over.
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// Members per group.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Message events to send.
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Plugins to enable on every group, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_PLUGINS.iter().map(|s| s.to_string()))]
    pub plugins: Vec<String>,
    /// Where plugins that are not installed yet are read from.
    #[arg(long, default_value = "target/plugins")]
    pub plugin_dir: PathBuf,
    /// Pace the events at this many per second (default: full speed).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Group ids are `<prefix>-<i>`.
    #[arg(long, default_value = "load")]
    pub group_prefix: String,
    /// One event in this many is a check-in; the others are plain text.
    #[arg(long, default_value_t = 4)]
    pub checkin_every: usize,
    /// Send this text in every event instead (e.g. `loop` to a hostile test plugin).
    #[arg(long)]
    pub text: Option<String>,
    /// Send `GET /healthz` instead of events (no setup): what HTTP alone
    /// costs on this machine, the floor for events/s.
    #[arg(long)]
    pub floor: bool,
    /// Do not create groups, members and enablements (an earlier run did).
    #[arg(long)]
    pub skip_setup: bool,
}

/// Runs `kith load` and prints its report.
///
/// # Errors
/// When the setup fails or the host cannot be reached.
pub async fn main(args: LoadArgs) -> anyhow::Result<()> {
    if args.rate.is_some_and(|r| r <= 0.0 || !r.is_finite()) {
        bail!("--rate must be a positive number of events per second");
    }
    let plugins = args
        .plugins
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let opts = Options {
        server: args.server,
        token: args.token,
        groups: args.groups,
        members: args.members,
        events: args.events,
        concurrency: args.concurrency.max(1),
        plugins,
        plugin_dir: args.plugin_dir,
        rate: args.rate,
        group_prefix: args.group_prefix,
        checkin_every: args.checkin_every,
        text: args.text,
        floor: args.floor,
        skip_setup: args.skip_setup,
    };
    let report = run(&opts).await?;
    print!("{}", report.render(&opts));
    Ok(())
}
