//! Metrics, in the Prometheus text format at `/metrics`: what the service
//! records as it runs (events, invocations, commits) and what is read when
//! scraped or logged (outbox depth, database size). One place names them.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

use crate::runtime::Failure;

/// Seconds: invocations and commits take from under a millisecond to the
/// time budget (1 s by default, 60 s at most).
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

/// Fuel: a trivial handler burns thousands, the default budget is 10^9.
const FUEL: &[f64] = &[1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// The process's recorder, installed on first use (once per process: the
/// tests run several servers in one).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full("kith_invocation_fuel".into()), FUEL)
            })
            .expect("buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder in this process")
    })
}

/// Installs the recorder; call at start so that metrics recorded before
/// the first scrape are kept.
pub fn init() {
    handle();
}

/// The metrics as Prometheus text.
pub fn render() -> String {
    handle().render()
}

/// An event processed: its kind (`message`, `timer`…) and what became of
/// it (`ok`, `duplicate`, `refused`, `error`).
pub fn event(kind: &'static str, outcome: &'static str) {
    metrics::counter!("kith_events_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// One handler run.
pub fn invocation(plugin: &str, failure: Option<Failure>, fuel: u64, took: Duration) {
    let outcome = match failure {
        None => "ok",
        Some(Failure::HandlerError) => "handler_error",
        Some(Failure::Trap) => "trap",
        Some(Failure::Timeout) => "timeout",
        Some(Failure::OutOfFuel) => "out_of_fuel",
    };
    let plugin = plugin.to_string();
    metrics::counter!("kith_invocations_total", "plugin" => plugin.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("kith_invocation_fuel", "plugin" => plugin.clone()).record(fuel as f64);
    metrics::histogram!("kith_invocation_duration_seconds", "plugin" => plugin)
        .record(took.as_secs_f64());
}

/// An event's commit: its statements and the commit itself.
pub fn commit(took: Duration) {
    metrics::histogram!("kith_store_commit_seconds").record(took.as_secs_f64());
}

/// Outbox actions waiting for an adapter.
pub fn outbox_pending(count: u64) {
    metrics::gauge!("kith_outbox_pending").set(count as f64);
}

/// The database's size and its largest tables' rows (see
/// `Store::database_stats`).
pub fn database(stats: &crate::store::DatabaseStats) {
    metrics::gauge!("kith_database_bytes").set(stats.bytes as f64);
    for (table, rows) in &stats.rows {
        metrics::gauge!("kith_table_rows", "table" => table.clone()).set(*rows as f64);
    }
}
