//! Running for months: what `kith serve` deletes once it is old enough, and
//! the database size it logs.
//!
//! Pruned, each past its own window (`Retention`): acknowledged outbox
//! actions, dead outbox actions never acknowledged, invocation records with
//! their logs, processed events, and (only if configured) messages. Never
//! pruned: pending outbox actions, timers, members, join requests, ledger
//! entries, plugin storage, the audit log.
//!
//! A processed event's row is how a retried event is recognised as a
//! duplicate: an adapter retrying an event older than the events window
//! gets it processed again. Hence the generous default (30 days), and the
//! replay window (what replays of past events need) keeps events longer
//! when it is the longer of the two.
//!
//! Pruning deletes small batches (`batch` rows per statement, each in a
//! transaction of its own, on SQLite in the writer's turn) with a pause
//! between them, so event processing is never held up for long. Several
//! processes on one Postgres may all prune: a batch deletes what is still
//! there.

use std::sync::Arc;
use std::time::Duration;

use crate::dispatch::Kith;
use crate::domain::Millis;
use crate::store::{DatabaseStats, Prunable, Store};

const DAY_MS: Millis = 24 * 3600 * 1000;

/// How long each kind of record is kept, in milliseconds; `None`: forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Processed events (the duplicate check and the bodies). Default 30 days.
    pub events: Option<Millis>,
    /// Replays and shadow runs of past events need their bodies: events are
    /// kept for the longer of this and `events`. Default 30 days.
    pub replay: Option<Millis>,
    /// Invocation records and their logs. Default 14 days.
    pub invocations: Option<Millis>,
    /// Acknowledged outbox actions, from their acknowledgement. Default 7
    /// days. Dead ones never acknowledged are kept for the events window.
    pub acked_outbox: Option<Millis>,
    /// Messages. Default: forever (`None`).
    pub messages: Option<Millis>,
    /// Rows per delete statement. Default 1,000.
    pub batch: u32,
    /// Pause between two batches. Default 50 ms.
    pub pause: Duration,
    /// How often a pruning pass starts. Default 60 s.
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            events: Some(30 * DAY_MS),
            replay: Some(30 * DAY_MS),
            invocations: Some(14 * DAY_MS),
            acked_outbox: Some(7 * DAY_MS),
            messages: None,
            batch: 1000,
            pause: Duration::from_millis(50),
            every: Duration::from_secs(60),
        }
    }
}

impl Retention {
    /// The window of a kind of record; `None`: kept forever.
    pub fn window(&self, what: Prunable) -> Option<Millis> {
        match what {
            // Forever if either says forever.
            Prunable::Events | Prunable::DeadOutbox => longest(self.events, self.replay),
            // Replays and shadow reports compare the effects invocations
            // kept: they stay as long as the events do for replay.
            Prunable::Invocations | Prunable::ShadowRuns => longest(self.invocations, self.replay),
            Prunable::AckedOutbox => self.acked_outbox,
            Prunable::Messages => self.messages,
        }
    }
}

/// The longer of two windows; forever if either says forever.
fn longest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    Some(a?.max(b?))
}

/// Parses a window: a number with a unit (`30d`, `12h`, `10m`, `90s`,
/// `500ms`), or `off` (or `forever`) to keep the records forever.
///
/// # Errors
/// Text of any other form, or a window of zero.
pub fn parse_window(text: &str) -> Result<Option<Millis>, String> {
    let text = text.trim();
    if matches!(text, "off" | "forever" | "never") {
        return Ok(None);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: give a unit, e.g. 30d, 12h, 10m, 90s, or off"))?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, e.g. 30d"))?;
    let unit_ms = match unit {
        "d" => DAY_MS,
        "h" => 3600 * 1000,
        "m" => 60 * 1000,
        "s" => 1000,
        "ms" => 1,
        _ => return Err(format!("{text:?}: the unit is one of d, h, m, s, ms")),
    };
    if n <= 0 {
        return Err(format!(
            "{text:?}: a window must be longer than zero (or off)"
        ));
    }
    n.checked_mul(unit_ms)
        .map(Some)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Rows deleted by one pruning pass, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned(pub Vec<(Prunable, u64)>);

impl Pruned {
    /// Rows deleted of every kind.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// Rows deleted of one kind.
    pub fn of(&self, what: Prunable) -> u64 {
        self.0
            .iter()
            .filter(|(k, _)| *k == what)
            .map(|(_, n)| n)
            .sum()
    }
}

impl std::fmt::Display for Pruned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, n)| format!("{n} {}", k.as_str()))
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

/// One pruning pass at time `now`: each kind, batch after batch (with the
/// policy's pause between them) until none older than its window is left.
///
/// # Errors
/// The first database error; rows deleted before it stay deleted.
pub async fn prune(store: &Store, policy: &Retention, now: Millis) -> crate::store::Result<Pruned> {
    let mut pruned = Pruned::default();
    for what in Prunable::ALL {
        let Some(window) = policy.window(what) else {
            continue;
        };
        let before = now.saturating_sub(window);
        let mut total = 0;
        loop {
            let n = store.prune_batch(what, before, policy.batch).await?;
            total += n;
            if n < u64::from(policy.batch) {
                break;
            }
            tokio::time::sleep(policy.pause).await;
        }
        pruned.0.push((what, total));
    }
    Ok(pruned)
}

/// Prunes every `policy.every` (the first pass at once) until the process
/// ends; a pass that fails is logged and tried again at the next.
pub fn spawn_pruner(kith: Arc<Kith>, policy: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(policy.every.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            match prune(&kith.store, &policy, kith.clock.now()).await {
                Ok(p) if p.total() > 0 => tracing::info!(
                    "retention: pruned {p} in {} ms",
                    started.elapsed().as_millis()
                ),
                Ok(_) => {}
                Err(e) => tracing::error!("retention: pruning failed: {e}"),
            }
        }
    })
}

/// One line for the log: `database 12.3 MB; rows: events 1000, …`.
pub fn describe(stats: &DatabaseStats) -> String {
    let rows: Vec<String> = stats.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    format!(
        "database {:.1} MB; rows: {}",
        stats.bytes as f64 / 1e6,
        rows.join(", ")
    )
}

/// Logs the database size and the row counts of its largest tables at once
/// and then every `every`, until the process ends.
pub fn spawn_size_log(kith: Arc<Kith>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match kith.store.database_stats().await {
                Ok(stats) => {
                    crate::telemetry::database(&stats);
                    tracing::info!("{}", describe(&stats))
                }
                Err(e) => tracing::error!("reading the database size: {e}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_with_units_or_off() {
        assert_eq!(parse_window("30d"), Ok(Some(30 * DAY_MS)));
        assert_eq!(parse_window("12h"), Ok(Some(12 * 3600 * 1000)));
        assert_eq!(parse_window("90s"), Ok(Some(90_000)));
        assert_eq!(parse_window("500ms"), Ok(Some(500)));
        assert_eq!(parse_window("off"), Ok(None));
        assert!(parse_window("30").is_err());
        assert!(parse_window("0d").is_err());
        assert!(parse_window("3w").is_err());
    }

    #[test]
    fn the_replay_window_keeps_events_when_it_is_longer() {
        let mut r = Retention {
            events: Some(DAY_MS),
            replay: Some(3 * DAY_MS),
            ..Retention::default()
        };
        assert_eq!(r.window(Prunable::Events), Some(3 * DAY_MS));
        assert_eq!(r.window(Prunable::DeadOutbox), Some(3 * DAY_MS));
        r.replay = Some(1);
        assert_eq!(r.window(Prunable::Events), Some(DAY_MS));
        assert_eq!(r.window(Prunable::Invocations), Some(14 * DAY_MS));
        r.replay = Some(30 * DAY_MS);
        assert_eq!(
            r.window(Prunable::Invocations),
            Some(30 * DAY_MS),
            "kept for replays"
        );
        assert_eq!(r.window(Prunable::ShadowRuns), Some(30 * DAY_MS));
        r.replay = None;
        assert_eq!(r.window(Prunable::Events), None);
        assert_eq!(r.window(Prunable::Invocations), None);
    }
}
