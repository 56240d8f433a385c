//! Running the group's plugins on an event, one invocation at a time, each
//! seeing the effects made before it.

use super::*;
use crate::runtime::{HandlerOutput, InvocationContext, InvocationReport};

/// What came of offering an event to one plugin.
pub(super) enum Ran {
    /// The plugin's world has no handler for the event.
    Skipped,
    /// The handler succeeded; its effects are in the batch.
    Output(HandlerOutput),
    /// The handler failed or was stopped; its effects were dropped.
    Failed(String),
}

impl EventCtx<'_> {
    /// Runs `event` in each enabled plugin that handles it (or only in
    /// `only`), in order, keeping the effects of those that succeed.
    pub(super) async fn run_plugins(
        &self,
        b: &mut Batch,
        event: &PluginEvent,
        only: Option<&str>,
    ) -> Result<()> {
        for e in self.enablements {
            if only.is_some_and(|p| p != e.plugin) {
                continue;
            }
            // A message deleted by an earlier plugin (moderation before
            // points) is not shown to the later ones.
            if let PluginEvent::Message(m) = event {
                let deleted = b
                    .effects
                    .iter()
                    .any(|(_, eff)| matches!(eff, Effect::DeleteMessage { id, .. } if *id == m.id));
                if deleted {
                    break;
                }
            }
            let from = b.effects.len();
            if let Ran::Output(_) = self.invoke(b, e, event).await? {
                self.resume_gates(b, &e.plugin, from).await?;
            }
        }
        Ok(())
    }

    /// Runs `event` in the plugin `e` enables, if its world handles it:
    /// records the invocation and keeps the effects of a success.
    pub(super) async fn invoke(
        &self,
        b: &mut Batch,
        e: &Enablement,
        event: &PluginEvent,
    ) -> Result<Ran> {
        let (installed, loaded) =
            super::super::plugins::load(&b.store, self.runtime, &e.plugin, &e.sha256).await?;
        if !crate::runtime::handles(installed.metadata.kind, event) {
            return Ok(Ran::Skipped);
        }
        let ctx = InvocationContext {
            store: b.store.clone(),
            group: b.group.clone(),
            plugin: e.plugin.clone(),
            event_id: b.event_id.clone(),
            now: b.now,
            seed: seed_of(&[&b.event_id, &e.plugin, event.handler()]),
            config: e.config.to_string(),
            granted: e.granted(&installed.metadata.capabilities),
            limits: e.limits,
        };
        let before = b.plain_effects();
        // What a version in shadow needs to see the same as the live one.
        let beside = e.shadow.as_ref().map(|s| (s, ctx.clone(), before.clone()));
        let report = self.runtime.invoke(&loaded, ctx, before, event).await;
        if let Some((shadow, ctx, before)) = beside {
            let run = self
                .shadow(b, e, shadow, ctx, before, event, &report)
                .await?;
            b.shadow_runs.push((e.plugin.clone(), run));
        }
        if let Err(error) = &report.result {
            tracing::warn!(group = %b.group.id, plugin = %e.plugin, "{error}");
        }
        crate::telemetry::invocation(&e.plugin, report.failure, report.fuel_used, report.duration);
        self.observe(b, &e.plugin, &report);
        b.invocations.push(Invocation {
            id: 0,
            event_id: b.event_id.clone(),
            group: b.group.id.clone(),
            plugin: e.plugin.clone(),
            handler: report.handler.to_string(),
            ok: report.result.is_ok(),
            error: report.result.as_ref().err().cloned(),
            fuel_used: report.fuel_used as i64,
            duration_us: report.duration.as_micros() as i64,
            logs: report.logs,
            at: b.now,
            sha256: Some(e.sha256.clone()),
            effects: report.effects.clone(),
        });
        b.effects.extend(
            report
                .effects
                .into_iter()
                .map(|eff| (Some(e.plugin.clone()), eff)),
        );
        Ok(match report.result {
            Ok(output) => Ran::Output(output),
            Err(error) => Ran::Failed(error),
        })
    }

    /// Runs the shadow version on the same event, seeing what the live one
    /// saw (the same state and earlier effects, the same seed); returns
    /// its run beside the live one's. Its effects are never applied, and
    /// its failures count against nothing.
    #[allow(clippy::too_many_arguments)]
    async fn shadow(
        &self,
        b: &Batch,
        e: &Enablement,
        shadow: &crate::store::Shadow,
        mut ctx: InvocationContext,
        before: Vec<Effect>,
        event: &PluginEvent,
        live: &InvocationReport,
    ) -> Result<crate::store::ShadowRun> {
        let (installed, loaded) =
            super::super::plugins::load(&b.store, self.runtime, &e.plugin, &shadow.sha256).await?;
        ctx.config = shadow.config.to_string();
        ctx.granted = e.granted(&installed.metadata.capabilities);
        let report = self.runtime.invoke(&loaded, ctx, before, event).await;
        let live_error = live.result.as_ref().err().cloned();
        let shadow_error = report.result.as_ref().err().cloned();
        let differs = super::super::replay::runs_differ(
            (&live.effects, live_error.is_some()),
            (&report.effects, shadow_error.is_some()),
        );
        Ok(crate::store::ShadowRun {
            event_id: b.event_id.clone(),
            sha256: shadow.sha256.clone(),
            handler: live.handler.to_string(),
            live: live.effects.clone(),
            shadow: report.effects,
            live_error,
            shadow_error,
            differs,
            at: b.now,
        })
    }

    /// Keeps the full report, when the service is observing (conformance).
    fn observe(&self, b: &Batch, plugin: &str, report: &InvocationReport) {
        if let Some(seen) = self.observed.lock().expect("observed").as_mut() {
            seen.push(Observed {
                group: b.group.id.clone(),
                event_id: b.event_id.clone(),
                plugin: plugin.to_string(),
                handler: report.handler.to_string(),
                failure: report.failure,
                error: report.result.as_ref().err().cloned(),
                fuel_used: report.fuel_used,
                peak_memory: report.peak_memory,
                duration: report.duration,
                effects: report.effects.clone(),
            });
        }
    }
}
