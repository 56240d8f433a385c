//! `kith test`: a plugin file goes in, a verdict comes out. Runs an
//! in-process host (a temporary SQLite file, a manual clock), no server.
//!
//! Checks, in order: the component targets a known world and version; its
//! metadata and config schema are well-formed; its defaults are a valid
//! config; every handler survives many generated events (edge cases
//! included) without trapping; the same inputs give the same effects; it
//! stays inside its budget (figures reported); its ledger balances; what it
//! did in one group is not visible in another; and its own scenarios pass.

pub mod audit;
mod generate;
pub mod junit;
pub(crate) mod scenario;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dispatch::{Clock, EnableInput, Kith, Observed};
use crate::domain::*;
use crate::runtime::{Failure, Runtime};

/// How `kith test` runs: the generated events and the budget a plugin must keep.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of the generated events.
    pub seed: u64,
    /// How many generated events.
    pub events: usize,
    /// The budget the plugin must stay within.
    pub limits: Limits,
    /// Where compiled code is kept between runs (large Python and
    /// JavaScript components take seconds to compile).
    pub cache_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            events: 300,
            limits: Limits::default(),
            cache_dir: None,
        }
    }
}

/// The outcome of one check of a plugin.
#[derive(Debug, Clone)]
pub struct Check {
    /// Check name, e.g. "world", "metadata", "determinism" or `scenario <file>`.
    pub name: String,
    /// Whether the plugin passed it.
    pub passed: bool,
    /// Why it failed, or the figures when it passed.
    pub detail: String,
    /// Wall time the check took.
    pub duration: Duration,
}

/// The verdict on one plugin file: its checks in the order they ran.
#[derive(Debug, Clone)]
pub struct Report {
    /// The plugin's name from its metadata, or "unknown" if it has none.
    pub plugin: String,
    /// The checks that ran; they stop at the first one that makes the rest pointless.
    pub checks: Vec<Check>,
}

impl Report {
    /// True if at least one check ran and all passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// One line per check, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            out += &format!("{mark} {}: {}\n", c.name, c.detail.replace('\n', "\n     "));
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        out += &format!("{} passed, {} failed\n", self.checks.len() - failed, failed);
        out
    }
}

struct Checks {
    list: Vec<Check>,
    started: Instant,
}

impl Checks {
    fn record(&mut self, name: impl Into<String>, result: Result<String, String>) -> bool {
        let passed = result.is_ok();
        let detail = result.unwrap_or_else(|e| e);
        self.list.push(Check {
            name: name.into(),
            passed,
            detail,
            duration: self.started.elapsed(),
        });
        self.started = Instant::now();
        passed
    }
}

/// A host for one run: a temporary database and data dir, a manual clock.
struct TestHost {
    kith: Arc<Kith>,
    clock: Clock,
    _dir: tempfile::TempDir,
}

async fn test_host(runtime: &Arc<Runtime>) -> anyhow::Result<TestHost> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(scenario::DEFAULT_CLOCK);
    let url = format!("sqlite://{}", dir.path().join("kith.db").display());
    let store = crate::store::Store::connect(&url).await?;
    let kith = Kith::new(store, runtime.clone(), clock.clone());
    kith.observe();
    Ok(TestHost {
        kith,
        clock,
        _dir: dir,
    })
}

/// Runs every check on a plugin file.
///
/// # Errors
/// Only for failures of the test host itself; a bad plugin gives a report
/// with failed checks.
pub async fn run(wasm: &[u8], scenarios: Option<&Path>, opts: &Options) -> anyhow::Result<Report> {
    let mut checks = Checks {
        list: vec![],
        started: Instant::now(),
    };
    let runtime = Runtime::new(opts.cache_dir.clone())?;
    let file = match runtime.read_plugin_file(wasm) {
        Ok(f) => f,
        Err(e) => {
            checks.record("world", Err(format!("{e:#}")));
            return Ok(Report {
                plugin: "unknown".into(),
                checks: checks.list,
            });
        }
    };
    checks.record("world", Ok(file.world.to_string()));

    let host = test_host(&runtime).await?;
    let installed = match host.kith.install_plugin(wasm).await {
        Ok(p) => p,
        Err(e) => {
            checks.record("metadata", Err(e.to_string()));
            return Ok(Report {
                plugin: "unknown".into(),
                checks: checks.list,
            });
        }
    };
    let meta = installed.metadata.clone();
    let caps: Vec<&str> = meta.capabilities.iter().map(|c| c.as_str()).collect();
    checks.record(
        "metadata",
        Ok(format!(
            "{} {} ({}), capabilities: {}",
            meta.name,
            meta.version,
            meta.kind,
            caps.join(", ")
        )),
    );

    // The generated run: events on the main group `g`; the plugin is
    // enabled there and in a sibling `other`, which gets no event.
    let steps = generate::steps(opts.seed, opts.events, &meta);
    let first = match exercise(&host, &meta, &steps, opts, BOTH).await {
        Ok(observed) => observed,
        Err(e) => {
            checks.record("config-defaults", Err(e));
            return Ok(Report {
                plugin: meta.name,
                checks: checks.list,
            });
        }
    };
    checks.record(
        "config-defaults",
        Ok("{} is a valid config and enables the plugin".into()),
    );

    let mine: Vec<&Observed> = first.iter().filter(|o| o.plugin == meta.name).collect();
    let stopped: Vec<String> = mine
        .iter()
        .filter(|o| {
            matches!(
                o.failure,
                Some(Failure::Trap | Failure::Timeout | Failure::OutOfFuel)
            )
        })
        .map(|o| o.error.clone().unwrap_or_default())
        .collect();
    let mut handlers: Vec<&str> = mine.iter().map(|o| o.handler.as_str()).collect();
    handlers.sort();
    handlers.dedup();
    let handler_errors = mine
        .iter()
        .filter(|o| o.failure == Some(Failure::HandlerError))
        .count();
    checks.record(
        "handlers",
        if stopped.is_empty() {
            Ok(format!(
                "{} invocations over {} generated events (seed {}), none trapped; handlers run: {}; {handler_errors} returned an error",
                mine.len(),
                steps.len(),
                opts.seed,
                handlers.join(", ")
            ))
        } else {
            Err(format!("{} of {} invocations were stopped; first: {}", stopped.len(), mine.len(), stopped[0]))
        },
    );

    let second_host = test_host(&runtime).await?;
    second_host
        .kith
        .install_plugin(wasm)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let second = exercise(&second_host, &meta, &steps, opts, BOTH)
        .await
        .map_err(anyhow::Error::msg)?;
    checks.record("determinism", determinism(&first, &second));
    checks.record("budget", budget(&mine, &opts.limits));
    let problems = audit::ledger(&host.kith.store, "g", &meta.name).await?;
    checks.record(
        "ledger",
        if problems.is_empty() {
            Ok("no account but issuer and external below zero; issued equals held; every escrow holding value is tracked".into())
        } else {
            Err(problems.join("\n"))
        },
    );
    // The control: the same events with the plugin enabled only in `other`.
    let control = test_host(&runtime).await?;
    control
        .kith
        .install_plugin(wasm)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let control_observed = exercise(&control, &meta, &steps, opts, &["other"])
        .await
        .map_err(anyhow::Error::msg)?;
    checks.record(
        "isolation",
        isolation(&host, &control, &first, &control_observed, &meta.name).await?,
    );

    if let Some(dir) = scenarios {
        let mut files: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            })
            .collect();
        files.sort();
        if files.is_empty() {
            checks.record(
                "scenarios",
                Err(format!("no .yaml or .json scenario in {}", dir.display())),
            );
        }
        for path in files {
            let file_name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let result = match scenario::load(&path) {
                Err(e) => Err(format!("{e:#}")),
                Ok(s) => match scenario::run(&runtime, wasm, &s, opts.limits).await {
                    Ok(diffs) if diffs.is_empty() => {
                        Ok(format!("{} ({} steps)", s.name, s.when.len()))
                    }
                    Ok(diffs) => Err(format!("{}:\n{}", s.name, diffs.join("\n"))),
                    Err(e) => Err(format!("{}: {e:#}", s.name)),
                },
            };
            checks.record(format!("scenario {file_name}"), result);
        }
    }
    Ok(Report {
        plugin: meta.name,
        checks: checks.list,
    })
}

/// The plugin enabled in the main group and its sibling.
const BOTH: &[&str] = &["g", "other"];

/// Enables the plugin with its defaults in each of `enabled_in`, runs the
/// steps on `g`, and returns what every invocation did.
async fn exercise(
    host: &TestHost,
    meta: &PluginMetadata,
    steps: &[scenario::Step],
    opts: &Options,
    enabled_in: &[&str],
) -> Result<Vec<Observed>, String> {
    use crate::dispatch::GroupInput;
    let kith = &host.kith;
    let group = |id: &str| GroupInput {
        id: Some(id.into()),
        name: Some(format!("Group {id}")),
        parent: Some("alliance".into()),
        timezone: Some("Asia/Shanghai".into()),
        ..Default::default()
    };
    let setup = async {
        kith.create_group(GroupInput {
            id: Some("alliance".into()),
            name: Some("Alliance".into()),
            ..Default::default()
        })
        .await?;
        kith.create_group(group("g")).await?;
        kith.create_group(group("other")).await?;
        for (id, role) in [
            ("owner", Role::Owner),
            ("admin", Role::Admin),
            ("core", Role::Core),
            ("m1", Role::Member),
            ("m2", Role::Member),
            ("张三", Role::Vip),
        ] {
            kith.add_member("g", id, None, role).await?;
            kith.add_member("other", id, None, role).await?;
        }
        let input = EnableInput {
            config: Some(serde_json::json!({})),
            limits: Some(serde_json::to_value(opts.limits).expect("plain data")),
            ..Default::default()
        };
        for group in enabled_in {
            kith.enable_plugin(&Actor::Open, group, &meta.name, input.clone())
                .await?;
        }
        Ok::<(), crate::dispatch::ServiceError>(())
    };
    setup
        .await
        .map_err(|e| format!("setting up with config {{}}: {e}"))?;
    for (i, step) in steps.iter().enumerate() {
        // The host refusing a generated event (an unknown member's payment,
        // say) is the host's check working, not the plugin failing.
        let _ = scenario_step(kith, &host.clock, &format!("gen-{i}"), step).await;
    }
    Ok(kith.take_observed())
}

async fn scenario_step(
    kith: &Arc<Kith>,
    clock: &Clock,
    id: &str,
    step: &scenario::Step,
) -> Result<(), crate::dispatch::ServiceError> {
    scenario::run_step_on(kith, clock, "g", id, step).await
}

fn determinism(first: &[Observed], second: &[Observed]) -> Result<String, String> {
    let key = |o: &Observed| {
        (
            o.group.clone(),
            o.plugin.clone(),
            o.handler.clone(),
            o.error.clone(),
            o.effects.clone(),
        )
    };
    if first.len() != second.len() {
        return Err(format!(
            "the same events gave {} invocations, then {}",
            first.len(),
            second.len()
        ));
    }
    for (i, (a, b)) in first.iter().zip(second).enumerate() {
        if key(a) != key(b) {
            return Err(format!(
                "invocation {i} ({} {}) differed between two runs of the same events:\n first: {:?}\nsecond: {:?}",
                a.plugin, a.handler, a.effects, b.effects
            ));
        }
    }
    Ok(format!(
        "{} invocations gave identical effects in two runs",
        first.len()
    ))
}

fn budget(mine: &[&Observed], limits: &Limits) -> Result<String, String> {
    let mut by_handler: std::collections::BTreeMap<&str, (u64, usize, Duration, usize)> =
        Default::default();
    for o in mine {
        let e = by_handler.entry(o.handler.as_str()).or_default();
        e.0 = e.0.max(o.fuel_used);
        e.1 = e.1.max(o.peak_memory);
        e.2 = e.2.max(o.duration);
        e.3 += 1;
    }
    let figures: Vec<String> = by_handler
        .iter()
        .map(|(h, (fuel, mem, time, n))| {
            format!(
                "{h}: max fuel {fuel}, peak memory {} KiB, max time {:.2} ms ({n} calls)",
                mem / 1024,
                time.as_secs_f64() * 1e3
            )
        })
        .collect();
    let over: Vec<String> = by_handler
        .iter()
        .filter(|(_, (fuel, mem, time, _))| {
            *fuel >= limits.fuel
                || *mem as u64 > limits.memory_bytes
                || time.as_millis() as u64 >= limits.timeout_ms
        })
        .map(|(h, _)| h.to_string())
        .collect();
    let budget = format!(
        "fuel {}, memory {} KiB, time {} ms",
        limits.fuel,
        limits.memory_bytes / 1024,
        limits.timeout_ms
    );
    if over.is_empty() {
        Ok(format!("{budget}\n{}", figures.join("\n")))
    } else {
        Err(format!(
            "over {budget} in {}\n{}",
            over.join(", "),
            figures.join("\n")
        ))
    }
}

/// What the plugin did in `g` must not be visible in `other`, where it is
/// enabled too but gets no event: `other` must end exactly as in the
/// control run, where the same events reach `g` but the plugin is not
/// enabled in `g`, and the plugin's invocations there (its timers, and
/// what they cause) must be the same, with the same effects. Members,
/// balances, the plugin's storage and timers, and the queued actions are
/// compared.
async fn isolation(
    host: &TestHost,
    control: &TestHost,
    observed: &[Observed],
    control_observed: &[Observed],
    plugin: &str,
) -> anyhow::Result<Result<String, String>> {
    let elsewhere = |list: &[Observed]| -> Vec<(String, String, Vec<Effect>)> {
        list.iter()
            .filter(|o| o.group != "g")
            .map(|o| (o.group.clone(), o.handler.clone(), o.effects.clone()))
            .collect()
    };
    let (got, want) = (elsewhere(observed), elsewhere(control_observed));
    if let Some(i) = (0..got.len().max(want.len())).find(|i| got.get(*i) != want.get(*i)) {
        let show = |o: Option<&(String, String, Vec<Effect>)>| {
            o.map_or("nothing".into(), |(g, h, e)| format!("{h} in {g:?}: {e:?}"))
        };
        return Ok(Err(format!(
            "invocation {i} outside g differs from the run where the plugin is not enabled in g:\n without: {}\n    with: {}",
            show(want.get(i)),
            show(got.get(i))
        )));
    }
    let got = audit::snapshot(&host.kith.store, "other", plugin).await?;
    let want = audit::snapshot(&control.kith.store, "other", plugin).await?;
    let diff = audit::diff(&want, &got, 10);
    if !diff.is_empty() {
        return Ok(Err(format!(
            "group \"other\" differs from the run where the plugin is not enabled in g (- without, + with):\n{}",
            diff.join("\n")
        )));
    }
    Ok(Ok(format!(
        "{} invocations in g, {} in the sibling \"other\", which ends as if the plugin had never run in g",
        observed.len() - want.len(),
        want.len()
    )))
}

/// [`run`] without scenarios and with the default options, on a thread of
/// its own: for the API (`POST /v1/plugin-checks`), whose handlers must be
/// `Send`, which the suite's host need not be.
///
/// # Errors
/// As [`run`].
pub async fn run_detached(wasm: Vec<u8>) -> anyhow::Result<Report> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(run(&wasm, None, &Options::default())))
        .await?
}
