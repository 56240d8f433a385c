//! kith's Matrix adapter. A bot account syncs the rooms mapped to kith
//! groups, posts what happens there to kith's `/v1/events`, and carries out
//! kith's outbox (leased from `/v1/outbox/lease`) on the homeserver,
//! acknowledging each action once Matrix accepted it. See docs/adapters.md.

pub mod config;
pub mod failure;
pub mod inbound;
pub mod kith;
pub mod matrix;
pub mod outbound;
pub mod roles;
pub mod run;
pub mod state;

pub use config::Config;
pub use failure::Failure;
pub use state::State;
