//! End to end: a real server on loopback, the real plugins built from
//! `plugins/`, on SQLite and on Postgres.

mod api;
mod auth;
mod backups;
mod checkin;
mod cli;
mod console_api;
mod contracts;
mod data_requests;
mod edge;
mod gates_chain;
mod history;
mod invite;
mod membership;
mod operations;
mod outbox;
mod policy;
mod prepare;
mod probes;
mod processes;
mod referral;
mod timers;
mod transactions;
mod versions;

pub use kith_tests::*;
pub use serde_json::{json, Value};
