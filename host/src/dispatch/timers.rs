//! Timers and lifecycle notifications, turned into ordinary events so they
//! get the same idempotence and transactions.

use super::event::Mode;
use super::*;
use std::time::Duration;

/// How long a process has to fire the timers it claimed; a claim left by
/// a process that died is taken over after this.
const TIMER_CLAIM_MS: Millis = 30_000;

/// Timers claimed at once: fired one after another well within the claim.
const TIMERS_PER_CLAIM: u32 = 100;

impl Kith {
    /// Fires the due timers this process claims (each once, across every
    /// process on the database). Returns how many fired.
    pub async fn fire_due_timers(&self) -> Result<usize> {
        // One pass at a time in this process: a pass that finds the timer
        // loop's pass under way waits for it, so that when it returns every
        // timer due when it was called has fired (or another process has
        // it), not merely been claimed by the loop beside it.
        let _pass = self.timer_pass.lock().await;
        let now = self.clock.now();
        let due = self
            .store
            .claim_due_timers(now, now + TIMER_CLAIM_MS, TIMERS_PER_CLAIM)
            .await?;
        let mut fired = 0;
        for timer in due {
            let enabled = self
                .store
                .get_enablement(&timer.group, &timer.plugin)
                .await
                .is_ok_and(|e| e.disabled_reason.is_none());
            let event = IncomingEvent {
                // Id by due time: a crash between firing and rescheduling
                // cannot fire the same occurrence twice.
                id: format!(
                    "timer:{}:{}:{}:{}",
                    timer.group, timer.plugin, timer.name, timer.due_at
                ),
                group: timer.group.clone(),
                at: Some(now),
                body: EventBody::MemberLeft {
                    member: String::new(),
                },
            };
            if !enabled {
                continue;
            }
            let id = event.id.clone();
            match self.process_with(event, Mode::Timer(timer.clone())).await {
                // Claims keep this from happening: the test of many
                // processes looks for this line.
                Ok(outcome) if outcome.duplicate => {
                    tracing::warn!("timer occurrence {id} ran twice: it had already fired")
                }
                Ok(_) => fired += 1,
                Err(e) => {
                    tracing::error!(group = %timer.group, plugin = %timer.plugin, "timer {} failed: {e}", timer.name)
                }
            }
        }
        Ok(fired)
    }

    /// Polls for due timers until the process ends.
    pub fn spawn_timer_loop(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let kith = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = kith.fire_due_timers().await {
                    tracing::error!("timer loop: {e}");
                }
            }
        })
    }

    pub(super) async fn notify_enabled(&self, group: &str, plugin: &str) -> Result<EventOutcome> {
        let event = IncomingEvent {
            id: format!("enabled:{group}:{plugin}:{}", uuid::Uuid::now_v7().simple()),
            group: group.to_string(),
            at: None,
            body: EventBody::MemberLeft {
                member: String::new(),
            },
        };
        self.process_with(event, Mode::Enabled(plugin.to_string()))
            .await
    }

    /// A reviewer (operator or admin) approves or declines a pending
    /// request; the decision goes into the audit log.
    pub async fn review(
        &self,
        actor: &Actor,
        group: &str,
        member: &str,
        approve: bool,
        reason: String,
    ) -> Result<EventOutcome> {
        let event = IncomingEvent {
            id: format!("review:{group}:{member}:{}", uuid::Uuid::now_v7().simple()),
            group: group.to_string(),
            at: None,
            body: EventBody::MemberLeft {
                member: member.to_string(),
            },
        };
        let detail = serde_json::json!({"reason": reason});
        let outcome = self
            .process_with(
                event,
                Mode::Review {
                    member: member.to_string(),
                    approve,
                    reason,
                },
            )
            .await?;
        let action = if approve {
            "join.approve"
        } else {
            "join.decline"
        };
        self.record_audit(actor, group, action, member, &detail)
            .await?;
        Ok(outcome)
    }

    /// Appends to a group's audit log in a transaction of its own, for
    /// changes made through events (which commit on their own).
    pub(crate) async fn record_audit(
        &self,
        actor: &Actor,
        group: &str,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.audit(group, actor, action, subject, detail, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
