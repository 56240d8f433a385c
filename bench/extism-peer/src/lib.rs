//! The Extism side of the peer benchmark (`benches/peer.rs`): a trivial
//! Extism plugin, written in WAT and compiled when the bench starts, and
//! the two ways of calling it that the bench compares.
//!
//! An Extism plugin is a core wasm module; a function Extism can call
//! takes no arguments and returns an `i32` status (0: success). Input and
//! output go through Extism's own kernel module, which Extism links into
//! every plugin instance; this plugin reads no input and writes no output,
//! like the kith plugin's `on-reaction`, which returns at once.
//!
//! ```no_run
//! let compiled = kith_extism_peer::compile().unwrap();
//! kith_extism_peer::call_fresh(&compiled).unwrap();
//! ```

use std::time::Duration;

use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};

/// The trivial plugin: `run` returns 0 at once.
pub const TRIVIAL_PLUGIN: &str = r#"
(module
  (func (export "run") (result i32)
    i32.const 0))
"#;

/// Limits comparable to a kith invocation's defaults, so that Extism does
/// the same kind of bookkeeping: fuel, a time budget and a memory cap.
pub const FUEL: u64 = 2_000_000_000;
/// The time budget of one call, as kith's default (1 s).
pub const TIMEOUT: Duration = Duration::from_secs(1);
/// The memory cap, in 64 KiB pages (64 MiB, kith's default).
pub const MAX_PAGES: u32 = 1024;

/// The plugin's wasm bytes, from [`TRIVIAL_PLUGIN`].
///
/// # Errors
/// If the WAT text does not parse (it does).
pub fn plugin_wasm() -> anyhow::Result<Vec<u8>> {
    Ok(wat::parse_str(TRIVIAL_PLUGIN)?)
}

/// The plugin compiled once, without WASI and without Extism's on-disk
/// cache, ready to be instantiated per call.
///
/// # Errors
/// If Extism refuses the module.
pub fn compile() -> anyhow::Result<CompiledPlugin> {
    let manifest = Manifest::new([Wasm::data(plugin_wasm()?)])
        .with_timeout(TIMEOUT)
        .with_memory_max(MAX_PAGES);
    PluginBuilder::new(manifest)
        .with_wasi(false)
        .with_cache_disabled()
        .with_fuel_limit(FUEL)
        .compile()
}

/// One call on a fresh plugin instance (a new store and instance from the
/// compiled plugin), as kith runs every invocation.
///
/// # Errors
/// If instantiating or calling fails.
pub fn call_fresh(compiled: &CompiledPlugin) -> anyhow::Result<()> {
    let mut plugin = Plugin::new_from_compiled(compiled)?;
    call(&mut plugin)
}

/// One call on a plugin kept between calls (Extism's usual way).
///
/// # Errors
/// If the call fails.
pub fn call(plugin: &mut Plugin) -> anyhow::Result<()> {
    let output: &[u8] = plugin.call("run", "")?;
    anyhow::ensure!(output.is_empty(), "unexpected output");
    Ok(())
}
