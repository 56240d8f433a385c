use anyhow::{anyhow, bail, Context as _};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::EntryGate;
use super::host::HostState;
use super::worlds::{Pre, World, WORLD_EXPORTS};

/// The contract versions this host links, oldest first; a plugin's exports
/// name the one it was built against.
pub const CONTRACT_VERSIONS: &[&str] = &["0.1.0", "0.2.0", "0.2.1"];

/// How often the epoch ticks: the granularity of invocation deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Linear memories kept ready by the pooling allocator: the most plugin
/// instances alive at once (a component usually has one memory). Each slot
/// reserves 4 GiB of address space (not of RAM), so 512 slots are 2 TiB of
/// the 128 TiB a process has.
const POOL_MEMORIES: u32 = 512;
/// Tables and core instances per memory slot: a component built by
/// wit-component has a few small shim modules beside the plugin's own.
const POOL_TABLES_PER_MEMORY: u32 = 4;
const POOL_CORE_INSTANCES_PER_MEMORY: u32 = 64;
/// The largest table a plugin may start with (CPython's is about 10k).
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// How the instance pool resets a plugin's memory and tables between
/// instances. [`Runtime::new`] uses the default; benchmarks compare others
/// in one run ([`Runtime::with_tuning`], docs/benchmarks.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolTuning {
    /// Bytes of each linear memory (and table) that stay mapped between
    /// instances, reset in place instead of handed back to the kernel
    /// with `madvise` and faulted in again by the next instance.
    pub keep_resident: usize,
    /// Whether wasmtime asks Linux (6.7+, `PAGEMAP_SCAN`) which pages the
    /// instance wrote and resets only those, up to `keep_resident` bytes.
    /// Without it the lowest `keep_resident` bytes are all reset, written
    /// or not. Ignored where the kernel lacks it.
    pub pagemap_scan: bool,
}

impl Default for PoolTuning {
    /// Measured (docs/benchmarks.md §1): a plugin built by Rust writes its
    /// stack top (1 MiB into its memory), its statics and heap in every
    /// invocation, all above the first 64 KiB. Without the scan those pages
    /// were returned to the kernel after each instance and faulted in again
    /// by the next; with it they stay mapped and only the written ones are
    /// reset.
    ///
    /// Where the kernel lacks the scan, the old setting (64 KiB, measured
    /// fastest without it): a large `keep_resident` would then memset all
    /// of it after every instance.
    fn default() -> Self {
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            PoolTuning {
                keep_resident: 4 << 20,
                pagemap_scan: true,
            }
        } else {
            PoolTuning {
                keep_resident: 64 << 10,
                pagemap_scan: false,
            }
        }
    }
}

/// kith's wasmtime settings: fuel, epoch interruption, a bounded stack and
/// the pooling allocator tuned by `tuning`. Public so that benchmarks can
/// run bare wasmtime with exactly these settings.
pub fn engine_config(tuning: PoolTuning) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.consume_fuel(true);
    config.wasm_component_model(true);
    // Plugins are small and short-lived: bound their stacks so deep
    // recursion traps quickly instead of eating the host's memory.
    config.max_wasm_stack(1 << 20);
    // A fresh instance per invocation: the pooling allocator reuses
    // mapped memory slots, tables and stacks instead of an mmap, page
    // faults and munmap each time (copy-on-write images for data).
    let mut pool = PoolingAllocationConfig::new();
    pool.total_memories(POOL_MEMORIES)
        .total_component_instances(POOL_MEMORIES)
        .total_stacks(POOL_MEMORIES)
        .total_tables(POOL_MEMORIES * POOL_TABLES_PER_MEMORY)
        .total_core_instances(POOL_MEMORIES * POOL_CORE_INSTANCES_PER_MEMORY)
        .table_elements(MAX_TABLE_ELEMENTS)
        .linear_memory_keep_resident(tuning.keep_resident)
        .table_keep_resident(tuning.keep_resident)
        .pagemap_scan(if tuning.pagemap_scan {
            Enabled::Auto
        } else {
            Enabled::No
        });
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// A plugin compiled and linked, ready to instantiate: cheap to clone,
/// kept per content hash.
#[derive(Clone)]
pub struct Loaded {
    /// SHA-256 of the component, hex: the plugin's identity in the cache.
    pub sha256: String,
    /// The world the component implements.
    pub world: World,
    /// The pre-instantiated component for its world.
    pub pre: Pre,
    /// Pool slots one instance takes (see `Runtime::slots`).
    pub(super) slots: u32,
}

/// A plugin file as uploaded, turned into a component.
pub struct PluginFile {
    /// The component's bytes (a core module is componentized first).
    pub component: Vec<u8>,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    /// The world the component exports.
    pub world: World,
    /// Compiled for this upload (not an installed plugin's code): a
    /// rejected upload calls `Runtime::forget` so none of it is kept.
    pub fresh: bool,
}

/// The wasmtime engine, the linker of host interfaces and the compiled
/// plugins; one per process, shared by every invocation.
pub struct Runtime {
    pub(super) engine: Engine,
    linker: Linker<HostState>,
    cache_dir: Option<PathBuf>,
    loaded: RwLock<HashMap<String, Loaded>>,
    /// One gate per component being loaded: a second load of the same
    /// component waits for the first instead of compiling it again.
    loading: std::sync::Mutex<HashMap<String, Arc<std::sync::Mutex<()>>>>,
    /// Components compiled from wasm (not read back from the cache dir).
    compilations: std::sync::atomic::AtomicU64,
    /// Free memory slots of the instance pool. An invocation waits for the
    /// slots its component needs instead of failing when the pool is full.
    pub(super) slots: tokio::sync::Semaphore,
    /// Turns for invocations that outlast their first slice: one fewer than
    /// the cores (at least one), so long runs never take every core.
    pub(super) slow_lane: Arc<tokio::sync::Semaphore>,
}

impl Runtime {
    /// Builds the engine and starts the epoch ticker. `cache_dir` keeps
    /// compiled code across restarts.
    ///
    /// # Errors
    /// If wasmtime rejects the configuration or the cache dir cannot be made.
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Arc<Runtime>> {
        Self::with_tuning(cache_dir, PoolTuning::default())
    }

    /// [`Runtime::new`] with another pool tuning (benchmarks compare them).
    ///
    /// # Errors
    /// As [`Runtime::new`].
    pub fn with_tuning(
        cache_dir: Option<PathBuf>,
        tuning: PoolTuning,
    ) -> anyhow::Result<Arc<Runtime>> {
        let config = engine_config(tuning);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        EntryGate::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
        super::bindings::v0_2::Plugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |s| s,
        )?;
        // WASI 0.2, sandboxed (see host/wasi.rs), for components that import it.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        if let Some(dir) = &cache_dir {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("kith-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })?;
        Ok(Arc::new(Runtime {
            engine,
            linker,
            cache_dir,
            loaded: RwLock::new(HashMap::new()),
            loading: Default::default(),
            compilations: Default::default(),
            slots: tokio::sync::Semaphore::new(POOL_MEMORIES as usize),
            slow_lane: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            )),
        }))
    }

    /// Accepts a component, or a core module carrying wit-bindgen's
    /// component-type section (componentized here), and finds its world.
    ///
    /// # Errors
    /// Not wasm, not componentizable, or not a known kith world and version.
    pub fn read_plugin_file(&self, bytes: &[u8]) -> anyhow::Result<PluginFile> {
        if !bytes.starts_with(b"\0asm") {
            bail!("not a WebAssembly file (no \\0asm header)");
        }
        let component = if wasmparser::Parser::is_core_wasm(bytes) {
            componentize(bytes)?
        } else {
            bytes.to_vec()
        };
        let sha256 = hex::encode(Sha256::digest(&component));
        let fresh = !self.is_loaded(&sha256);
        let checked = self.compile(&sha256, &component).and_then(|compiled| {
            let world = world_of(&self.engine, &compiled)?;
            slots_needed(&compiled)?;
            Ok(world)
        });
        match checked {
            Ok(world) => Ok(PluginFile {
                component,
                sha256,
                world,
                fresh,
            }),
            Err(e) => {
                if fresh {
                    self.forget(&sha256);
                }
                Err(e)
            }
        }
    }

    /// Drops what was compiled for a component (in memory and in the cache
    /// dir): a rejected upload leaves nothing behind.
    pub fn forget(&self, sha256: &str) {
        self.loaded.write().expect("lock").remove(sha256);
        if let Some(path) = self.cache_path(sha256) {
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("removing {}: {e}", path.display());
                }
            }
        }
    }

    /// Where a component's compiled code is cached, if there is a cache dir.
    fn cache_path(&self, sha256: &str) -> Option<PathBuf> {
        use std::hash::{Hash, Hasher};
        let dir = self.cache_dir.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        Some(dir.join(format!("{sha256}-{:016x}.cwasm", h.finish())))
    }

    /// The ready-to-instantiate plugin for a component, compiled at most once
    /// per process and, with a cache dir, once per machine.
    ///
    /// # Errors
    /// If the component does not compile or does not match its world.
    pub fn load(&self, sha256: &str, component: &[u8]) -> anyhow::Result<Loaded> {
        if let Some(found) = self.loaded.read().expect("lock").get(sha256) {
            return Ok(found.clone());
        }
        let gate = self
            .loading
            .lock()
            .expect("lock")
            .entry(sha256.to_string())
            .or_default()
            .clone();
        let _turn = gate.lock().expect("load gate");
        // The gate is needed only while this load runs: callers after it
        // find the plugin loaded (or, after a failure, try again), and
        // those already waiting hold the gate itself. Dropped first.
        let _forget = ForgetGate {
            gates: &self.loading,
            sha256,
        };
        // Whoever held the gate before may have loaded it meanwhile.
        if let Some(found) = self.loaded.read().expect("lock").get(sha256) {
            return Ok(found.clone());
        }
        let compiled = self.compile(sha256, component)?;
        let world = world_of(&self.engine, &compiled)?;
        let slots = slots_needed(&compiled)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&compiled)
            .map_err(anyhow::Error::from)
            .context("linking the plugin's imports")?;
        let pre = Pre::new(world, instance_pre)?;
        let loaded = Loaded {
            sha256: sha256.to_string(),
            world,
            pre,
            slots,
        };
        self.loaded
            .write()
            .expect("lock")
            .insert(sha256.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// How many load gates are held (one per component being loaded).
    pub fn load_gates(&self) -> usize {
        self.loading.lock().expect("lock").len()
    }

    /// How many components this runtime compiled from wasm, rather than
    /// found compiled in memory or in the cache dir.
    pub fn compilations(&self) -> u64 {
        self.compilations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the plugin with this hash is compiled and cached.
    pub fn is_loaded(&self, sha256: &str) -> bool {
        self.loaded.read().expect("lock").contains_key(sha256)
    }

    fn compile(&self, sha256: &str, component: &[u8]) -> anyhow::Result<Component> {
        let Some(path) = self.cache_path(sha256) else {
            self.compilations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(Component::new(&self.engine, component)?);
        };
        if path.exists() {
            // SAFETY: the file was written by `precompile_component` of an
            // engine with the same compatibility hash, into the host's own
            // data dir; a damaged file fails to deserialize and is rebuilt.
            match unsafe { Component::deserialize_file(&self.engine, &path) } {
                Ok(c) => return Ok(c),
                Err(e) => tracing::warn!(
                    "recompiling {}: cached code unusable: {e:#}",
                    path.display()
                ),
            }
        }
        self.compilations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bytes = self.engine.precompile_component(component)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("writing {}", path.display()))?;
        // SAFETY: just produced by this engine.
        Ok(unsafe { Component::deserialize(&self.engine, &bytes) }?)
    }
}

/// Turns a wit-bindgen core module into a component. wit-component
/// panics on some malformed input (a truncated custom section): that is a
/// bad upload like any other, not a crash of the request.
fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    let encode = || {
        wit_component::ComponentEncoder::default()
            .module(module)
            .context(
                "core module has no usable component-type section (build it with wit-bindgen)",
            )?
            .validate(true)
            .encode()
            .context("componentizing the core module")
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(encode))
        .unwrap_or_else(|_| bail!("malformed core module: componentizing it failed"))
}

/// The pool slots an instance of `component` takes: its memories, or its
/// tables and core instances where those are the scarcer resource.
fn slots_needed(component: &Component) -> anyhow::Result<u32> {
    let Some(r) = component.resources_required() else {
        bail!("the component instantiates imported modules, which kith does not provide");
    };
    if let Some(n) = r
        .max_initial_table_size
        .filter(|&n| n > MAX_TABLE_ELEMENTS as u64)
    {
        bail!("the component starts with a table of {n} elements; the host allows {MAX_TABLE_ELEMENTS}");
    }
    let slots = r
        .num_memories
        .max(r.num_tables.div_ceil(POOL_TABLES_PER_MEMORY))
        .max(1);
    if slots > POOL_MEMORIES / 4 {
        bail!(
            "the component needs {} memories and {} tables; the host allows {} and {}",
            r.num_memories,
            r.num_tables,
            POOL_MEMORIES / 4,
            POOL_MEMORIES / 4 * POOL_TABLES_PER_MEMORY
        );
    }
    Ok(slots)
}

/// The kith world a component exports, from its export names.
fn world_of(engine: &Engine, component: &Component) -> anyhow::Result<World> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let has = |export: &str| names.iter().any(|n| n == export);
    let mut worlds: Vec<World> = WORLD_EXPORTS
        .iter()
        .filter(|(iface, _)| has(&format!("kith:plugin/{iface}@0.1.0")))
        .map(|(_, k)| World::V0_1(*k))
        .collect();
    // 0.2.x: the patch releases only add imports (semver-compatible).
    if names
        .iter()
        .any(|n| n.starts_with("kith:plugin/handler@0.2."))
    {
        worlds.push(World::V0_2);
    }
    match worlds.as_slice() {
        [world] if has("metadata") => Ok(*world),
        [_] => Err(anyhow!("the component exports no `metadata` function")),
        [] => {
            let other = names.iter().find(|n| n.starts_with("kith:plugin/"));
            let speaks = CONTRACT_VERSIONS.join(", ");
            match other {
                Some(n) => Err(anyhow!(
                    "the component targets {n}, but this host speaks kith:plugin {speaks}"
                )),
                None => Err(anyhow!(
                    "the component exports none of kith:plugin/handler (0.2.0) or \
                     kith:plugin/gate, game, flow (0.1.0) (exports: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )),
            }
        }
        _ => Err(anyhow!("the component exports more than one kith world")),
    }
}

/// Removes a component's load gate when its load ends (`Runtime::load`),
/// so that the gates do not outlive the loads: one per upload ever tried
/// would otherwise stay for the life of the process.
struct ForgetGate<'a> {
    gates: &'a std::sync::Mutex<HashMap<String, Arc<std::sync::Mutex<()>>>>,
    sha256: &'a str,
}

impl Drop for ForgetGate<'_> {
    fn drop(&mut self) {
        if let Ok(mut gates) = self.gates.lock() {
            gates.remove(self.sha256);
        }
    }
}
