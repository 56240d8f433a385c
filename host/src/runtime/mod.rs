//! The wasmtime side: one `Engine`, compiled components cached by content
//! hash (in memory and on disk), a fresh `Store` per invocation with a memory
//! cap, an epoch deadline and fuel.

pub mod bindings;
pub mod convert;
mod engine;
pub mod host;
mod invoke;

pub use engine::{Loaded, PluginFile, Runtime};
pub use host::{HostState, InvocationContext};
pub use invoke::{HandlerOutput, InvocationReport};
