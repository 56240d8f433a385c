//! The wasmtime side: one `Engine`, compiled components cached by content
//! hash (in memory and on disk), a fresh `Store` per invocation with a memory
//! cap, an epoch deadline and fuel.

pub mod bindings;
pub(crate) mod convert;
mod engine;
pub(crate) mod host;
mod invoke;
mod limiter;
mod worlds;

pub use engine::{engine_config, Loaded, PluginFile, PoolTuning, Runtime, CONTRACT_VERSIONS};
pub use host::{HostState, InvocationContext};
pub use invoke::{Failure, HandlerOutput, InvocationReport};
pub use worlds::{handles, World};
