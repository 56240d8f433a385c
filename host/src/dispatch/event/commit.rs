//! The event's one transaction: its record, its effects in order, its
//! invocations and the plugins' failure counts.

use super::*;
use crate::store::Tx;

impl Kith {
    /// Commits in `tx`, which holds the group's turn on Postgres.
    pub(super) async fn commit(
        &self,
        mut tx: Tx<'static>,
        b: Batch,
        enablements: &[Enablement],
        kind: &str,
        body: &str,
    ) -> Result<EventOutcome> {
        let started = std::time::Instant::now();
        // When kith processed the event (retention counts from it).
        let processed_at = self.clock.now();
        let outcome_json = serde_json::to_value(&b.outcome).expect("serializable");
        if !tx
            .insert_event(
                &b.event_id,
                &b.group.id,
                kind,
                body,
                &outcome_json,
                b.now,
                processed_at,
            )
            .await?
        {
            drop(tx);
            let done = self.duplicate(&b.group.id, &b.event_id, body).await?;
            return Ok(done.expect("recorded"));
        }
        for (plugin, effect) in &b.effects {
            self.apply(&mut tx, &b.group.id, plugin.as_deref(), effect, b.now)
                .await?;
        }
        tx.insert_invocations(&b.invocations, processed_at).await?;
        tx.insert_shadow_runs(&b.group.id, &b.shadow_runs, processed_at)
            .await?;
        // A success only needs recording when it ends a run of failures.
        let had_failed = |plugin: &str| {
            enablements
                .iter()
                .any(|e| e.plugin == plugin && e.consecutive_failures > 0)
        };
        let mut alerts = vec![];
        for inv in &b.invocations {
            if inv.error.is_some() || had_failed(&inv.plugin) {
                let switched_off = tx
                    .record_outcome(&inv.group, &inv.plugin, inv.error.as_deref())
                    .await?;
                if let Some(reason) = switched_off {
                    let alert = self
                        .alert_switched_off(&mut tx, &inv.group, &inv.plugin, &reason, b.now)
                        .await?;
                    alerts.push(alert);
                }
            }
        }
        tx.commit().await?;
        crate::telemetry::commit(started.elapsed());
        for alert in alerts {
            self.send_webhooks(&b.group.id, alert);
        }
        Ok(b.outcome)
    }
}
