//! kith: a WebAssembly plugin host for online community operations.
//!
//! The host keeps groups, members, messages and a ledger; every community
//! strategy is a wasm component (see `wit/`) that an operator enables per
//! group. Layout: `domain` (plain types), `store` (SQLite/Postgres),
//! `runtime` (wasmtime), `dispatch` (events → plugins → one transaction),
//! `http` (the API), `edge` (connections, timeouts, rate limits), `app` (wiring), `cli` (the `kith` command).

#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod conformance;
pub mod dispatch;
pub mod domain;
pub mod edge;
pub mod http;
pub mod loadgen;
pub mod retention;
pub mod runtime;
pub mod scaffold;
pub mod store;
pub mod telemetry;
