//! `kith test`: a plugin file goes in, a verdict comes out. Runs an
//! in-process host (a temporary SQLite file, a manual clock), no server.
//!
//! Checks, in order: the component targets a known world and version; its
//! metadata and config schema are well-formed; its defaults are a valid
//! config; every handler survives many generated events (edge cases
//! included) without trapping; the same inputs give the same effects; it
//! stays inside its budget (figures reported); it touches only its group;
//! and its own scenarios pass.

mod generate;
pub mod junit;
pub mod scenario;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dispatch::{Clock, EnableInput, Kith, Observed};
use crate::domain::*;
use crate::runtime::{Failure, Runtime};

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

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// Why it failed, or the figures when it passed.
    pub detail: String,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub plugin: String,
    pub checks: Vec<Check>,
}

impl Report {
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
    checks.record(
        "world",
        Ok(format!(
            "{} (kith:plugin@{})",
            file.kind,
            crate::runtime::WIT_VERSION
        )),
    );

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

    // The generated run: the main group `g` and a sibling `other`, where the
    // plugin is not enabled and which must see no change.
    let steps = generate::steps(opts.seed, opts.events, &meta);
    let first = match exercise(&host, &meta, &steps, opts).await {
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
    let second = exercise(&second_host, &meta, &steps, opts)
        .await
        .map_err(anyhow::Error::msg)?;
    checks.record("determinism", determinism(&first, &second));
    checks.record("budget", budget(&mine, &opts.limits));
    checks.record("isolation", isolation(&host, &first, &meta.name).await?);

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

/// Enables the plugin on `g` with its defaults, runs the steps
/// on `g`, and returns what every invocation did.
async fn exercise(
    host: &TestHost,
    meta: &PluginMetadata,
    steps: &[scenario::Step],
    opts: &Options,
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
        kith.enable_plugin(&Actor::Open, "g", &meta.name, input)
            .await?;
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

/// The sibling group, where the plugin is enabled but nothing happened,
/// must be as it was after setup: the plugin acted only where invoked.
async fn isolation(
    host: &TestHost,
    observed: &[Observed],
    plugin: &str,
) -> anyhow::Result<Result<String, String>> {
    let store = &host.kith.store;
    let elsewhere: Vec<&Observed> = observed.iter().filter(|o| o.group != "g").collect();
    if let Some(o) = elsewhere.first() {
        return Ok(Err(format!(
            "the plugin ran {} in group {:?}, where no event was sent",
            o.handler, o.group
        )));
    }
    let members = store.list_members("other", &Default::default()).await?;
    let changed: Vec<&str> = members
        .iter()
        .filter(|m| m.status != MemberStatus::Active || m.points != 0)
        .map(|m| m.id.as_str())
        .collect();
    let outbox = store
        .outbox(Some("other"), 0, crate::store::MAX_LIST)
        .await?;
    let plugin_actions = outbox
        .iter()
        .filter(|a| a.plugin.as_deref() == Some(plugin))
        .count();
    let sums: Vec<i64> = [
        store.ledger_sum("other", Asset::Points).await?,
        store.ledger_sum("other", Asset::Money).await?,
    ]
    .to_vec();
    let keys = store
        .storage_keys(plugin, "other", "", crate::store::MAX_LIST)
        .await?;
    let timers = store.timers("other").await?;
    if !changed.is_empty()
        || sums != [0, 0]
        || plugin_actions > 0
        || !keys.is_empty()
        || !timers.is_empty()
    {
        return Ok(Err(format!(
            "group \"other\" changed although the plugin is not enabled there: members {changed:?}, ledger sums {sums:?}, \
             {plugin_actions} actions, {} storage keys, {} timers",
            keys.len(),
            timers.len()
        )));
    }
    Ok(Ok(format!(
        "{} invocations, all in group g; the sibling group \"other\" is unchanged",
        observed.len()
    )))
}
