//! Runtime benchmarks (`cargo bench -p kith`), see docs/benchmarks.md.
//!
//! - `floor`: bare wasmtime, instantiate + call of an empty component (the
//!   floor of the target); `floor/daily-checkin-bare`: daily-checkin's own
//!   component under bare wasmtime with kith's engine settings.
//! - `invoke`: one plugin invocation through `Runtime::invoke` (fresh
//!   instance, host calls, effect buffer): a trivial handler and the daily
//!   check-in against SQLite.
//! - `native`: the same check-in as Rust calling the same host functions
//!   directly on a `HostState` (the limit).
//! - `host-call`: `config.get()` called 0 and 1000 times by a plugin; the
//!   difference / 1000 is the cost of one host call.
//! - `pool`: the trivial invocation under other pool tunings.
//!
//! The plugin files come from `bash scripts/build-plugins.sh`. After the run
//! the ratios are printed from Criterion's estimates.

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion};
use serde::{Deserialize, Serialize};

use kith::runtime::bindings::kith::plugin as wit_host;
use kith::runtime::HostState;

mod support;
use support::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

// ---- the same plugin under bare wasmtime ----

/// daily-checkin's component under bare wasmtime with kith's engine
/// settings (`kith::runtime::engine_config`, pooling allocator included),
/// its imports defined as traps: what instantiating and calling this
/// plugin costs before anything of kith's runs.
struct BareGame {
    engine: wasmtime::Engine,
    pre: kith::runtime::bindings::game::ActivityGamePre<()>,
}

fn bare_game(component: &[u8]) -> BareGame {
    let config = kith::runtime::engine_config(kith::runtime::PoolTuning::default());
    let engine = wasmtime::Engine::new(&config).expect("engine");
    let component = wasmtime::component::Component::new(&engine, component).expect("compile");
    let mut linker = wasmtime::component::Linker::<()>::new(&engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("stub imports");
    let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
    let pre = kith::runtime::bindings::game::ActivityGamePre::new(pre).expect("game world");
    BareGame { engine, pre }
}

async fn bare_game_once(
    b: &BareGame,
    ctx: &kith::runtime::bindings::wit::Context,
    reaction: &kith::runtime::bindings::wit::Reaction,
) {
    let mut store = wasmtime::Store::new(&b.engine, ());
    store.set_fuel(u64::MAX / 2).unwrap();
    store.set_epoch_deadline(1_000_000);
    let instance = b
        .pre
        .instantiate_async(&mut store)
        .await
        .expect("instantiate");
    instance
        .kith_plugin_game()
        .call_on_reaction(&mut store, ctx, reaction)
        .await
        .expect("call")
        .expect("on-reaction");
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

/// Pool tunings compared on the trivial invocation (`pool/<id>`).
const POOL_TUNINGS: [(&str, kith::runtime::PoolTuning); 4] = [
    (
        "keep-64k",
        kith::runtime::PoolTuning {
            keep_resident: 64 << 10,
            pagemap_scan: false,
        },
    ),
    (
        "keep-64k-scan",
        kith::runtime::PoolTuning {
            keep_resident: 64 << 10,
            pagemap_scan: true,
        },
    ),
    (
        "keep-1m-scan",
        kith::runtime::PoolTuning {
            keep_resident: 1 << 20,
            pagemap_scan: true,
        },
    ),
    (
        "keep-4m-scan",
        kith::runtime::PoolTuning {
            keep_resident: 4 << 20,
            pagemap_scan: true,
        },
    ),
];

fn main() {
    // Estimates written before this instant belong to earlier runs.
    let started = std::time::SystemTime::now();
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

    let root = root();
    let s = rt.block_on(setup(&root));
    let checkin = rt.block_on(enable(&s, "target/plugins/daily-checkin.wasm"));
    let calls = rt.block_on(enable(&s, "target/test-plugins/bench-calls.wasm"));
    let (react, checkin_msg) = (reaction(), message("/checkin"));
    {
        let mut g = c.benchmark_group("floor");
        for kith_config in [false, true] {
            let f = floor(kith_config);
            let id = if kith_config {
                "empty-component-kith-config"
            } else {
                "empty-component"
            };
            g.bench_function(id, |b| b.to_async(&rt).iter(|| floor_once(&f)));
        }
        // Not the floor of the target (that is the empty component), but
        // what of the trivial invocation is the plugin's own instance.
        let bare = bare_game(&checkin.component);
        let ctx = kith::runtime::bindings::wit::Context {
            group: "g".into(),
            plugin: checkin.name.clone(),
            event_id: "e-bench".into(),
            now: s.kith.clock.now(),
            seed: 1,
        };
        let kith::domain::PluginEvent::Reaction(r) = &react else {
            unreachable!("a reaction")
        };
        let wit_reaction: kith::runtime::bindings::wit::Reaction = r.clone().into();
        g.bench_function("daily-checkin-bare", |b| {
            b.to_async(&rt)
                .iter(|| bare_game_once(&bare, &ctx, &wit_reaction))
        });
        g.finish();
    }
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
        // The same trivial invocation with other pool tunings, each on its
        // own runtime (the plugin compiled again for it).
        let mut g = c.benchmark_group("pool");
        for (id, tuning) in POOL_TUNINGS {
            let runtime = kith::runtime::Runtime::with_tuning(None, tuning).expect("runtime");
            let loaded = runtime
                .load(&checkin.loaded.sha256, &checkin.component)
                .expect("load");
            g.bench_function(id, |b| {
                b.to_async(&rt)
                    .iter(|| invoke_on(&runtime, &s, &checkin, &loaded, &react, 0))
            });
        }
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
    summary(&out, started);
}

fn summary(out: &Path, since: std::time::SystemTime) {
    let get = |id: &str| mean_ns(out, id, since);
    let us = |ns: f64| format!("{:.2} µs", ns / 1e3);
    println!("\nsummary (means of this run):");
    let pools = POOL_TUNINGS.map(|(id, _)| format!("pool/{id}"));
    for id in [
        "floor/empty-component",
        "floor/empty-component-kith-config",
        "floor/daily-checkin-bare",
        "invoke/trivial-on-reaction",
        "invoke/daily-checkin",
        "native/daily-checkin",
        "host-call/config-get/0",
        "host-call/config-get/1000",
        "store/counts",
    ]
    .into_iter()
    .chain(pools.iter().map(String::as_str))
    {
        if let Some(ns) = get(id) {
            println!("  {id:<36} {}", us(ns));
        }
    }
    let ratio = |what: &str, a: &str, b: &str, target: &str| {
        if let (Some(a), Some(b)) = (get(a), get(b)) {
            println!("  {what:<38} {:.2}x{target}", a / b);
        }
    };
    ratio(
        "trivial invocation / floor:",
        "invoke/trivial-on-reaction",
        "floor/empty-component",
        " (target <= 2x)",
    );
    ratio(
        "trivial invocation / floor(kith cfg):",
        "invoke/trivial-on-reaction",
        "floor/empty-component-kith-config",
        "",
    );
    ratio(
        "trivial invocation / same plugin bare:",
        "invoke/trivial-on-reaction",
        "floor/daily-checkin-bare",
        "",
    );
    ratio(
        "check-in plugin / native:",
        "invoke/daily-checkin",
        "native/daily-checkin",
        " (target <= 1.5x)",
    );
    if let (Some(a), Some(b)) = (
        get("host-call/config-get/0"),
        get("host-call/config-get/1000"),
    ) {
        println!(
            "  one host call (config.get):            {:.1} ns",
            (b - a) / 1000.0
        );
    }
}
