//! Runtime benchmarks (`cargo bench -p kith`), see docs/benchmarks.md.
//!
//! - `floor`: bare wasmtime, instantiate + call of an empty component.
//! - `invoke`: one plugin invocation through `Runtime::invoke` (fresh
//!   instance, host calls, effect buffer): a trivial handler and the daily
//!   check-in against SQLite.
//! - `native`: the same check-in as Rust calling the same host functions
//!   directly on a `HostState` (the limit).
//! - `host-call`: `config.get()` called 0 and 1000 times by a plugin; the
//!   difference / 1000 is the cost of one host call.
//!
//! The plugin files come from `bash scripts/build-plugins.sh`. After the run
//! the ratios are printed from Criterion's estimates.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion};
use serde::{Deserialize, Serialize};

use kith::dispatch::{Clock, EnableInput, GroupInput, Kith};
use kith::domain::*;
use kith::runtime::bindings::kith::plugin as wit_host;
use kith::runtime::{HostState, InvocationContext, Loaded, Runtime};

// ---- the floor: bare wasmtime ----

/// An empty component: one exported function, no arguments, no imports.
const EMPTY_COMPONENT: &str = r#"
(component
  (core module $m (func (export "run")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run")))
)"#;

struct Floor {
    engine: wasmtime::Engine,
    pre: wasmtime::component::InstancePre<()>,
}

/// `kith_config`: the same engine settings as kith's runtime (fuel, epoch
/// interruption, stack cap), to separate their cost from kith's own.
fn floor(kith_config: bool) -> Floor {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    if kith_config {
        config.epoch_interruption(true);
        config.consume_fuel(true);
        config.max_wasm_stack(1 << 20);
    }
    let engine = wasmtime::Engine::new(&config).expect("engine");
    let component =
        wasmtime::component::Component::new(&engine, EMPTY_COMPONENT).expect("empty component");
    let linker = wasmtime::component::Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
    Floor { engine, pre }
}

async fn floor_once(f: &Floor, kith_config: bool) {
    let mut store = wasmtime::Store::new(&f.engine, ());
    if kith_config {
        store.set_fuel(u64::MAX / 2).unwrap();
        store.set_epoch_deadline(1_000_000);
    }
    let instance = f
        .pre
        .instantiate_async(&mut store)
        .await
        .expect("instantiate");
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .expect("run export");
    run.call_async(&mut store, ()).await.expect("call");
}

// ---- kith: a store, a group, a member, plugins ----

struct Setup {
    kith: Arc<Kith>,
    group: Group,
    _dir: tempfile::TempDir,
}

/// What one enabled plugin needs to be invoked as the dispatcher does.
struct Enabled {
    name: String,
    loaded: Loaded,
    config: String,
    granted: Vec<Capability>,
    limits: Limits,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn plugin_bytes(rel: &str) -> Vec<u8> {
    let path = root().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the plugins first: bash scripts/build-plugins.sh",
            path.display()
        )
    })
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("kith.db").display());
    let store = kith::store::Store::connect(&url).await.expect("store");
    let runtime = Runtime::new(None).expect("runtime");
    let kith = Kith::new(store, runtime, Clock::system());
    kith.create_group(GroupInput {
        id: Some("g".into()),
        name: Some("Bench group".into()),
        timezone: Some("Asia/Shanghai".into()),
        ..Default::default()
    })
    .await
    .expect("group");
    kith.add_member("g", "ann", Some("Ann".into()), Role::Member)
        .await
        .expect("member");
    let group = kith.store.get_group("g").await.expect("group");
    Setup {
        kith,
        group,
        _dir: dir,
    }
}

async fn enable(s: &Setup, file: &str) -> Enabled {
    let installed = s
        .kith
        .install_plugin(&plugin_bytes(file))
        .await
        .expect("install");
    let name = installed.metadata.name.clone();
    s.kith
        .enable_plugin(
            &Actor::Open,
            "g",
            &name,
            EnableInput {
                config: Some(serde_json::json!({})),
                ..Default::default()
            },
        )
        .await
        .expect("enable");
    let e = s
        .kith
        .store
        .enablements("g")
        .await
        .expect("enablements")
        .into_iter()
        .find(|e| e.plugin == name)
        .expect("enabled");
    // Already compiled by the install: this is the runtime's cache.
    let wasm = s
        .kith
        .store
        .plugin_wasm(&name, &installed.sha256)
        .await
        .expect("wasm");
    let loaded = s.kith.runtime.load(&installed.sha256, &wasm).expect("load");
    Enabled {
        name,
        loaded,
        config: e.config.to_string(),
        granted: e.granted(&installed.metadata.capabilities),
        limits: e.limits,
    }
}

/// The context the dispatcher would build for this plugin and event.
fn context(s: &Setup, p: &Enabled, event_id: &str, handler: &str) -> InvocationContext {
    InvocationContext {
        store: s.kith.store.clone(),
        group: s.group.clone(),
        plugin: p.name.clone(),
        event_id: event_id.to_string(),
        now: s.kith.clock.now(),
        seed: kith::dispatch::seed_of(&[event_id, &p.name, handler]),
        config: p.config.clone(),
        granted: p.granted.clone(),
        limits: p.limits,
    }
}

fn message(text: &str) -> PluginEvent {
    PluginEvent::Message(Message {
        id: "m-bench".into(),
        group: "g".into(),
        sender: "ann".into(),
        kind: MessageKind::Text,
        text: text.into(),
        mentions: vec![],
        reply_to: None,
        links: vec![],
        sent_at: 0,
        deleted: false,
    })
}

fn reaction() -> PluginEvent {
    PluginEvent::Reaction(Reaction {
        message_id: "m-1".into(),
        member: "ann".into(),
        author: "ann".into(),
        emoji: "👍".into(),
    })
}

/// One invocation; panics unless it succeeded with the expected number of
/// effects (so a broken setup cannot pass for a fast one).
async fn invoke(s: &Setup, p: &Enabled, event: &PluginEvent, effects: usize) {
    let ctx = context(s, p, "e-bench", event.handler());
    let report = s.kith.runtime.invoke(&p.loaded, ctx, vec![], event).await;
    assert!(report.result.is_ok(), "{:?}", report.result);
    assert_eq!(report.effects.len(), effects, "{:?}", report.effects);
    std::hint::black_box(report);
}

// ---- the check-in as native Rust (plugins/rust/daily-checkin/src/logic.rs) ----

#[derive(Deserialize)]
#[serde(default)]
struct CheckinConfig {
    commands: Vec<String>,
    base_reward: i64,
    streak_bonus: i64,
    max_bonus: i64,
    #[allow(dead_code)]
    leaderboard_command: String,
    leaderboard_size: u32,
    reminder_hour: Option<u8>,
}

impl Default for CheckinConfig {
    fn default() -> Self {
        CheckinConfig {
            commands: vec!["/checkin".into(), "签到".into(), "打卡".into()],
            base_reward: 10,
            streak_bonus: 2,
            max_bonus: 20,
            leaderboard_command: "/rank".into(),
            leaderboard_size: 10,
            reminder_hour: None,
        }
    }
}

#[derive(Default, Clone, Serialize, Deserialize)]
struct MemberState {
    last_day: i64,
    streak: u32,
    total_days: u32,
    total_points: i64,
}

fn parse_config(raw: &str) -> Result<CheckinConfig, String> {
    let raw = raw.trim();
    let cfg: CheckinConfig = if raw.is_empty() || raw == "null" {
        CheckinConfig::default()
    } else {
        serde_json::from_str(raw).map_err(|e| format!("invalid plugin config: {e}"))?
    };
    if cfg.base_reward < 0 || cfg.streak_bonus < 0 || cfg.max_bonus < 0 {
        return Err("config: negative amount".into());
    }
    if cfg.reminder_hour.is_some_and(|h| h > 23) || cfg.leaderboard_size < 1 {
        return Err("config: out of range".into());
    }
    Ok(cfg)
}

/// The on-message handler of daily-checkin for a check-in command, making
/// the same host calls in the same order as the plugin.
async fn native_checkin(state: &mut HostState, text: &str, sender: &str) -> Result<(), String> {
    let raw = wit_host::config::Host::get(state)
        .await
        .map_err(|e| e.to_string())?;
    let cfg = parse_config(&raw)?;
    let is_command = |c: &str| !c.trim().is_empty() && text.trim() == c.trim();
    if !cfg.commands.iter().any(|c| is_command(c)) {
        return Ok(());
    }
    let now = state.ctx.now;
    let offset = wit_host::groups::Host::current(state)
        .await
        .map_err(|e| e.to_string())?
        .utc_offset_minutes;
    let day = now
        .saturating_add(i64::from(offset) * 60_000)
        .div_euclid(86_400_000);
    let key = format!("member:{sender}");
    let prev: Option<MemberState> = match wit_host::storage::Host::get(state, key.clone())
        .await
        .map_err(|e| e.to_string())?
    {
        Some(bytes) => Some(
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("corrupted state at `{key}`: {e}"))?,
        ),
        None => None,
    };
    let member = wit_host::members::Host::get(state, sender.to_string())
        .await
        .map_err(|e| e.to_string())?;
    let name = match member.as_ref().map(|m| m.display_name.trim()) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => sender.to_string(),
    };
    let streak = match &prev {
        Some(p) if p.last_day >= day => {
            let text = format!("@{name} already checked in today (streak {}).", p.streak);
            return post(state, text, sender).await;
        }
        Some(p) if p.last_day == day - 1 => p.streak.saturating_add(1),
        _ => 1,
    };
    let bonus = i64::from(streak.saturating_sub(1)).saturating_mul(cfg.streak_bonus);
    let reward = cfg.base_reward.saturating_add(bonus.min(cfg.max_bonus));
    let base = prev.unwrap_or_default();
    let next = MemberState {
        last_day: day,
        streak,
        total_days: base.total_days.saturating_add(1),
        total_points: base.total_points.saturating_add(reward),
    };
    if reward > 0 {
        wit_host::members::Host::award_points(
            state,
            sender.to_string(),
            reward,
            format!("daily check-in, streak {streak}"),
        )
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.message)?;
    }
    wit_host::storage::Host::set(state, key, serde_json::to_vec(&next).unwrap_or_default())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.message)?;
    let text = format!("@{name} checked in: day {streak} of the streak, +{reward} points.");
    post(state, text, sender).await
}

async fn post(state: &mut HostState, text: String, sender: &str) -> Result<(), String> {
    let outgoing = wit_host::messages::Outgoing {
        text,
        mentions: vec![sender.to_string()],
        reply_to: None,
    };
    wit_host::messages::Host::post(state, outgoing)
        .await
        .map_err(|e| e.to_string())?
        .map(drop)
        .map_err(|e| e.message)
}

/// As the runtime does around a plugin: a fresh `HostState`, the handler,
/// then the effects taken out.
async fn native_once(s: &Setup, p: &Enabled) {
    let ctx = context(s, p, "e-bench", "on-message");
    let mut state = HostState::new(ctx, vec![]);
    native_checkin(&mut state, "/checkin", "ann")
        .await
        .expect("native check-in");
    let (effects, logs) = state.into_parts();
    assert_eq!(effects.len(), 3, "{effects:?}");
    std::hint::black_box((effects, logs));
}

// ---- the run ----

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let out = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/criterion"));
    let mut c = Criterion::default()
        .output_directory(&out)
        .configure_from_args();

    {
        let mut g = c.benchmark_group("floor");
        for kith_config in [false, true] {
            let f = floor(kith_config);
            let id = if kith_config {
                "empty-component-kith-config"
            } else {
                "empty-component"
            };
            g.bench_function(id, |b| b.to_async(&rt).iter(|| floor_once(&f, kith_config)));
        }
        g.finish();
    }

    let s = rt.block_on(setup());
    let checkin = rt.block_on(enable(&s, "target/plugins/daily-checkin.wasm"));
    let calls = rt.block_on(enable(&s, "target/test-plugins/bench-calls.wasm"));
    let (react, checkin_msg) = (reaction(), message("/checkin"));
    {
        let mut g = c.benchmark_group("invoke");
        g.bench_function("trivial-on-reaction", |b| {
            b.to_async(&rt).iter(|| invoke(&s, &checkin, &react, 0))
        });
        // Effects are not committed, so every iteration is a first check-in:
        // award-points, storage.set and a post.
        g.bench_function("daily-checkin", |b| {
            b.to_async(&rt)
                .iter(|| invoke(&s, &checkin, &checkin_msg, 3))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("native");
        g.bench_function("daily-checkin", |b| {
            b.to_async(&rt).iter(|| native_once(&s, &checkin))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("host-call");
        for n in [0u32, 1000] {
            let event = message(&n.to_string());
            g.bench_with_input(BenchmarkId::new("config-get", n), &event, |b, event| {
                b.to_async(&rt).iter(|| invoke(&s, &calls, event, 0))
            });
        }
        g.finish();
    }
    {
        // One store round trip: a query of kith's through sqlx's Any driver,
        // a hop to the SQLite connection's thread and back.
        let mut g = c.benchmark_group("store");
        g.bench_function("counts", |b| {
            b.to_async(&rt).iter(|| s.kith.store.counts("g"))
        });
        g.finish();
    }
    c.final_summary();
    summary(&out);
}

/// Mean of a benchmark in ns, from Criterion's estimates of this run.
fn mean_ns(out: &Path, id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(out.join(id).join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn summary(out: &Path) {
    let get = |id: &str| mean_ns(out, id);
    let us = |ns: f64| format!("{:.2} µs", ns / 1e3);
    println!("\nsummary (means of this run):");
    for id in [
        "floor/empty-component",
        "floor/empty-component-kith-config",
        "invoke/trivial-on-reaction",
        "invoke/daily-checkin",
        "native/daily-checkin",
        "host-call/config-get/0",
        "host-call/config-get/1000",
        "store/counts",
    ] {
        if let Some(ns) = get(id) {
            println!("  {id:<36} {}", us(ns));
        }
    }
    if let (Some(t), Some(f)) = (
        get("invoke/trivial-on-reaction"),
        get("floor/empty-component"),
    ) {
        println!(
            "  trivial invocation / floor:          {:.2}x (target <= 3x)",
            t / f
        );
    }
    if let (Some(t), Some(f)) = (
        get("invoke/trivial-on-reaction"),
        get("floor/empty-component-kith-config"),
    ) {
        println!("  trivial invocation / floor(kith cfg): {:.2}x", t / f);
    }
    if let (Some(p), Some(n)) = (get("invoke/daily-checkin"), get("native/daily-checkin")) {
        println!(
            "  check-in plugin / native:            {:.2}x (target <= 2x)",
            p / n
        );
    }
    if let (Some(a), Some(b)) = (
        get("host-call/config-get/0"),
        get("host-call/config-get/1000"),
    ) {
        println!(
            "  one host call (config.get):          {:.1} ns",
            (b - a) / 1000.0
        );
    }
}
