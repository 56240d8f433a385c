//! What the runtime benches share (`host/benches/runtime.rs` and the
//! Extism peer in `bench/extism-peer`, which includes this file by path):
//! the bare-wasmtime floor and a kith service with plugins enabled as the
//! dispatcher would run them.

#![allow(dead_code, reason = "each bench uses part of it")]

use std::path::Path;
use std::sync::Arc;

use kith::dispatch::{Clock, EnableInput, GroupInput, Kith};
use kith::domain::*;
use kith::runtime::{InvocationContext, Loaded, Runtime};

// ---- the floor: bare wasmtime ----

/// An empty component: one exported function, no arguments, no imports.
pub const EMPTY_COMPONENT: &str = r#"
(component
  (core module $m (func (export "run")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run")))
)"#;

/// Bare wasmtime, ready to instantiate the empty component.
pub struct Floor {
    engine: wasmtime::Engine,
    pre: wasmtime::component::InstancePre<()>,
    kith_config: bool,
}

/// `kith_config`: the same engine settings as kith's runtime (fuel, epoch
/// interruption, stack cap; not its pooling allocator), to separate their
/// cost from kith's own.
pub fn floor(kith_config: bool) -> Floor {
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
    Floor {
        engine,
        pre,
        kith_config,
    }
}

/// One iteration of the floor: a fresh `Store`, instantiate, call.
pub async fn floor_once(f: &Floor) {
    let mut store = wasmtime::Store::new(&f.engine, ());
    if f.kith_config {
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

/// A kith service on SQLite in a temp dir, with group `g` and member `ann`.
pub struct Setup {
    /// The service.
    pub kith: Arc<Kith>,
    /// Group `g` as stored.
    pub group: Group,
    /// Where the repository is (plugin files are under `target/`).
    pub root: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// What one enabled plugin needs to be invoked as the dispatcher does.
pub struct Enabled {
    /// The plugin's name.
    pub name: String,
    /// Its compiled component, from the runtime's cache.
    pub loaded: Loaded,
    /// Its enablement's config, as JSON text.
    pub config: String,
    /// Capabilities granted and declared.
    pub granted: Vec<Capability>,
    /// The enablement's limits.
    pub limits: Limits,
    /// The component's bytes, as installed.
    pub component: Vec<u8>,
}

/// A plugin file of the repository, e.g. `target/plugins/daily-checkin.wasm`.
pub fn plugin_bytes(root: &Path, rel: &str) -> Vec<u8> {
    let path = root.join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the plugins first: bash scripts/build-plugins.sh",
            path.display()
        )
    })
}

/// The service with a group and a member; `root` is the repository.
pub async fn setup(root: &Path) -> Setup {
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
        root: root.to_path_buf(),
        _dir: dir,
    }
}

/// Installs and enables a plugin file in group `g` with config `{}`.
pub async fn enable(s: &Setup, file: &str) -> Enabled {
    let installed = s
        .kith
        .install_plugin(&plugin_bytes(&s.root, file))
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
        component: wasm,
    }
}

/// The context the dispatcher would build for this plugin and event.
pub fn context(s: &Setup, p: &Enabled, event_id: &str, handler: &str) -> InvocationContext {
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

/// A text message from ann in `g`.
pub fn message(text: &str) -> PluginEvent {
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

/// ann reacting to her own message: daily-checkin's `on-reaction` returns at once.
pub fn reaction() -> PluginEvent {
    PluginEvent::Reaction(Reaction {
        message_id: "m-1".into(),
        member: "ann".into(),
        author: "ann".into(),
        emoji: "👍".into(),
    })
}

/// One invocation on `runtime` (the service's own unless another is given);
/// panics unless it succeeded with the expected number of effects (so a
/// broken setup cannot pass for a fast one).
pub async fn invoke_on(
    runtime: &Runtime,
    s: &Setup,
    p: &Enabled,
    loaded: &Loaded,
    event: &PluginEvent,
    effects: usize,
) {
    let ctx = context(s, p, "e-bench", event.handler());
    let report = runtime.invoke(loaded, ctx, vec![], event).await;
    assert!(report.result.is_ok(), "{:?}", report.result);
    assert_eq!(report.effects.len(), effects, "{:?}", report.effects);
    std::hint::black_box(report);
}

/// One invocation through the service's runtime.
pub async fn invoke(s: &Setup, p: &Enabled, event: &PluginEvent, effects: usize) {
    invoke_on(&s.kith.runtime, s, p, &p.loaded, event, effects).await
}

/// Mean of a benchmark in ns, from Criterion's estimates, if it ran in
/// this run (written after `since`): a filtered run must not mix in
/// figures left by an earlier one.
pub fn mean_ns(out: &Path, id: &str, since: std::time::SystemTime) -> Option<f64> {
    let path = out.join(id).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}
