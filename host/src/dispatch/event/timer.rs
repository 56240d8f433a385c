//! A timer fired: it is rescheduled (or dropped), then only its plugin runs.

use super::*;

impl EventCtx<'_> {
    pub(super) async fn timer(&self, b: &mut Batch, timer: Timer) -> Result<()> {
        // Reschedule first, so that the plugin's own timer calls win.
        let next = match timer.period_ms {
            Some(p) if p > 0 => {
                let missed = (b.now - timer.due_at).max(0) / p;
                Effect::SetTimer {
                    name: timer.name.clone(),
                    at: timer.due_at + (missed + 1) * p,
                    period_ms: Some(p as u64),
                    payload: timer.payload.clone(),
                }
            }
            _ => Effect::CancelTimer {
                name: timer.name.clone(),
            },
        };
        b.effects.push((Some(timer.plugin.clone()), next));
        let fired = PluginEvent::Timer(TimerFired {
            name: timer.name.clone(),
            payload: timer.payload.clone(),
            due_at: timer.due_at,
        });
        self.run_plugins(b, &fired, Some(&timer.plugin)).await
    }
}
