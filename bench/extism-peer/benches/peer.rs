//! One criterion run, side by side (`bash scripts/bench-peer.sh`):
//!
//! - `peer/wasmtime-floor`: bare wasmtime 48 (kith's), instantiate + call
//!   of an empty component, a fresh `Store` each time: the floor of the
//!   runtime target, as in `host/benches/runtime.rs`.
//! - `peer/kith-trivial`: kith's trivial invocation (daily-checkin's
//!   `on-reaction`, which returns at once) through `Runtime::invoke`.
//! - `peer/extism-fresh`: Extism 1.30 (wasmtime 43), a trivial plugin on a
//!   fresh plugin instance per call, from a plugin compiled once.
//! - `peer/extism-reused`: the same plugin instance called again and again.
//! - `peer/wasmtime-core-floor`: bare wasmtime 48 with the Extism plugin's
//!   own module (a core module, no kernel), fresh `Store` each time: what
//!   the Extism figures would be without Extism.
//!
//! The floor and the kith service come from `host/benches/support`, shared
//! with the runtime bench. Both wasmtime versions link into this one binary
//! (their C-level symbols carry their version).

use std::path::{Path, PathBuf};

use criterion::Criterion;

#[path = "../../../host/benches/support/mod.rs"]
mod support;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Bare wasmtime 48 with a core module: instantiate + call of `run`.
struct CoreFloor {
    engine: wasmtime::Engine,
    pre: wasmtime::InstancePre<()>,
}

fn core_floor() -> CoreFloor {
    let engine = wasmtime::Engine::default();
    let wasm = kith_extism_peer::plugin_wasm().expect("wat");
    let module = wasmtime::Module::new(&engine, wasm).expect("module");
    let linker = wasmtime::Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&module).expect("instantiate_pre");
    CoreFloor { engine, pre }
}

fn core_floor_once(f: &CoreFloor) {
    let mut store = wasmtime::Store::new(&f.engine, ());
    let instance = f.pre.instantiate(&mut store).expect("instantiate");
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .expect("run export");
    assert_eq!(run.call(&mut store, ()).expect("call"), 0);
}

fn main() {
    let started = std::time::SystemTime::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let root = root();
    let out = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/criterion"));
    let mut c = Criterion::default()
        .output_directory(&out)
        .configure_from_args();

    let s = rt.block_on(support::setup(&root));
    let checkin = rt.block_on(support::enable(&s, "target/plugins/daily-checkin.wasm"));
    let react = support::reaction();
    let floor = support::floor(false);
    let core = core_floor();
    let compiled = kith_extism_peer::compile().expect("extism plugin");
    let mut reused = extism::Plugin::new_from_compiled(&compiled).expect("extism instance");
    {
        let mut g = c.benchmark_group("peer");
        g.bench_function("wasmtime-floor", |b| {
            b.to_async(&rt).iter(|| support::floor_once(&floor))
        });
        g.bench_function("kith-trivial", |b| {
            b.to_async(&rt)
                .iter(|| support::invoke(&s, &checkin, &react, 0))
        });
        g.bench_function("extism-fresh", |b| {
            b.iter(|| kith_extism_peer::call_fresh(&compiled).expect("extism call"))
        });
        g.bench_function("extism-reused", |b| {
            b.iter(|| kith_extism_peer::call(&mut reused).expect("extism call"))
        });
        g.bench_function("wasmtime-core-floor", |b| b.iter(|| core_floor_once(&core)));
        g.finish();
    }
    c.final_summary();
    summary(&out, started);
}

fn summary(out: &Path, since: std::time::SystemTime) {
    let ids = [
        "peer/wasmtime-floor",
        "peer/kith-trivial",
        "peer/extism-fresh",
        "peer/extism-reused",
        "peer/wasmtime-core-floor",
    ];
    let floor = support::mean_ns(out, ids[0], since);
    println!("\nsummary (means of this run; x = against peer/wasmtime-floor):");
    for id in ids {
        if let Some(ns) = support::mean_ns(out, id, since) {
            let x = floor.map_or(String::new(), |f| format!("{:.2}x", ns / f));
            println!("  {id:<28} {:>10.2} µs  {x}", ns / 1e3);
        }
    }
}
