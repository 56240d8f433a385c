//! Replay: a candidate version of a plugin run against a group's recorded
//! history in a throw-away kith (a temporary database, a manual clock at
//! each event's time, only the candidate enabled), its effects compared,
//! event by event, with what the enabled version did.
//!
//! Every event is replayed from the group's beginning, so that the
//! candidate's state (members, storage, ledger, timers) is built as the
//! live plugin's was; `since` only limits which events are compared. The
//! candidate runs with the enablement's current config and grant. Other
//! plugins do not run: where the live plugin saw another plugin's doing
//! (a message deleted first, a member removed), the candidate does not.

use super::event::Mode;
use super::*;
use crate::store::{Enablement, Invocation, RecordedEvent, Timer};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Which part of the history to compare, and with what config.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Compare events processed at or after this time (epoch ms); earlier
    /// ones are replayed, not compared.
    pub since: Option<Millis>,
    /// Replay nothing processed after this time (epoch ms).
    pub until: Option<Millis>,
    /// The candidate's config; default: the enabled version's, which must
    /// then fit the candidate's schema.
    pub config: Option<Value>,
}

/// One event where the candidate did not do what the enabled version did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventDiff {
    /// The recorded event.
    pub event_id: String,
    /// Its kind (message, timer, enabled…).
    pub kind: String,
    /// When it was processed. Unix epoch milliseconds.
    pub at: Millis,
    /// What the enabled version asked for.
    #[schema(value_type = Vec<Object>)]
    pub recorded: Vec<Effect>,
    /// What the candidate asked for.
    #[schema(value_type = Vec<Object>)]
    pub candidate: Vec<Effect>,
    /// Why the enabled version failed, if it did.
    pub recorded_error: Option<String>,
    /// Why the candidate failed (or the event was refused), if it did.
    pub candidate_error: Option<String>,
}

/// What a replay found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    /// The group replayed.
    pub group: GroupId,
    /// The plugin compared.
    pub plugin: String,
    /// The candidate's version string.
    pub candidate_version: String,
    /// The candidate's content hash.
    pub candidate_sha256: String,
    /// Events replayed.
    pub replayed: usize,
    /// Events compared (in the window, where either version ran).
    pub compared: usize,
    /// Events where the candidate differed.
    pub differing: usize,
    /// Effects by kind (`post`, `transfer`, `storage_set`…): how many the
    /// enabled version asked for, and the candidate, in the compared events.
    pub totals: BTreeMap<String, [usize; 2]>,
    /// The differing events, oldest first (at most 100).
    pub diffs: Vec<EventDiff>,
}

/// The most differing events a report lists (all are counted).
const MAX_DIFFS: usize = 100;

impl Kith {
    /// Replays a group's history with a candidate file of one of its
    /// enabled plugins (which one, the file's metadata says).
    ///
    /// # Errors
    /// `NotFound` when that plugin is not enabled on the group;
    /// `Unprocessable` for a file that is not a plugin, or a config the
    /// candidate's schema refuses.
    pub async fn replay(
        &self,
        group: &str,
        candidate: &[u8],
        options: ReplayOptions,
    ) -> Result<ReplayReport> {
        let live = self.store.get_group(group).await?;
        let sandbox = Sandbox::new(&self.runtime, &self.store, &live, candidate).await?;
        let plugin = sandbox.plugin.metadata.name.clone();
        let mut enablement = self.store.get_enablement(group, &plugin).await?;
        if let Some(config) = options.config {
            enablement.config = config;
        }
        let schema = &sandbox.plugin.metadata.config_schema;
        super::enablements::fit_config(schema, &mut enablement.config, &plugin)?;
        let until = options.until.unwrap_or(Millis::MAX);
        let (events, recorded) = self.store.history(group, &plugin, until).await?;
        let window = options.since;
        let mut report = ReplayReport {
            group: group.to_string(),
            plugin: plugin.clone(),
            candidate_version: sandbox.plugin.metadata.version.clone(),
            candidate_sha256: sandbox.plugin.sha256.clone(),
            replayed: 0,
            compared: 0,
            differing: 0,
            totals: BTreeMap::new(),
            diffs: vec![],
        };
        let mut enabled = false;
        for event in &events {
            let outcome = sandbox.run(event, &enablement, &mut enabled).await;
            report.replayed += 1;
            let ran = sandbox.kith.take_observed();
            if window.is_some_and(|since| event.received_at < since) {
                continue;
            }
            compare(&mut report, event, &recorded, ran, outcome.err());
        }
        Ok(report)
    }
}

/// The throw-away kith a replay runs in.
struct Sandbox {
    kith: Arc<Kith>,
    clock: Clock,
    plugin: crate::store::InstalledPlugin,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    /// A temporary database with the group (as it is now, settings and all)
    /// and the candidate installed; the clock at the group's creation.
    async fn new(
        runtime: &Arc<Runtime>,
        live_store: &Store,
        group: &Group,
        candidate: &[u8],
    ) -> Result<Sandbox> {
        let internal = |e: anyhow::Error| ServiceError::Internal(e);
        let dir = tempfile::tempdir().map_err(|e| internal(e.into()))?;
        let url = format!("sqlite://{}", dir.path().join("replay.db").display());
        let store = Store::connect(&url).await.map_err(internal)?;
        let clock = Clock::manual(group.created_at);
        let kith = Kith::new(store, runtime.clone(), clock.clone());
        let plugin = kith.install_plugin(candidate).await?;
        let mut tx = kith.store.begin().await?;
        tx.insert_group(&Group {
            archived_at: None,
            parent: None,
            ..group.clone()
        })
        .await?;
        // The codes the API issued (plugins' codes come again from their events).
        for (member, code, at) in live_store.api_referral_codes(&group.id).await? {
            tx.insert_referral_code(&group.id, &member, &code, None, at)
                .await?;
        }
        tx.commit().await?;
        kith.observe();
        Ok(Sandbox {
            kith,
            clock,
            plugin,
            _dir: dir,
        })
    }

    /// Replays one recorded event at its time, as the mode it was.
    async fn run(&self, e: &RecordedEvent, live: &Enablement, enabled: &mut bool) -> Result<()> {
        let now = self.clock.now();
        if e.received_at > now {
            self.clock.advance(e.received_at - now);
        }
        let field = |name: &str| e.body[name].as_str().unwrap_or_default().to_string();
        let mode = match e.kind.as_str() {
            "enabled" | "timer" if field("plugin") != live.plugin => return Ok(()),
            "enabled" => {
                if !*enabled {
                    self.enable(live).await?;
                    *enabled = true;
                }
                Mode::Enabled(live.plugin.clone())
            }
            "timer" => Mode::Timer(Timer {
                plugin: live.plugin.clone(),
                group: live.group.clone(),
                name: field("name"),
                due_at: e.body["due_at"].as_i64().unwrap_or_default(),
                period_ms: e.body["period_ms"].as_i64(),
                payload: field("payload"),
            }),
            "operator_add" => {
                let role = serde_json::from_value(e.body["role"].clone()).unwrap_or(Role::Member);
                Mode::OperatorAdd(role)
            }
            "operator_remove" => Mode::OperatorRemove {
                member: field("member"),
                reason: field("reason"),
            },
            "review" => Mode::Review {
                member: field("member"),
                approve: e.body["approve"] == true,
                reason: field("reason"),
            },
            _ => Mode::Normal,
        };
        let event = IncomingEvent {
            id: e.id.clone(),
            group: live.group.clone(),
            at: Some(e.received_at),
            body: carried_body(e)?,
        };
        self.kith.process_with(event, mode).await.map(drop)
    }

    /// The candidate enabled with the live enablement's config and grant
    /// (no `on-enabled` here: the recorded enable event runs it).
    async fn enable(&self, live: &Enablement) -> Result<()> {
        let mut tx = self.kith.store.begin().await?;
        tx.put_enablement(&Enablement {
            position: 0,
            sha256: self.plugin.sha256.clone(),
            previous: None,
            shadow: None,
            consecutive_failures: 0,
            last_error: None,
            disabled_reason: None,
            capabilities: live.granted(&self.plugin.metadata.capabilities),
            ..live.clone()
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The body the event is carried through the pipeline with: the adapter's
/// own; for the host's events, what the mode needs (see `recorded_body`).
fn carried_body(e: &RecordedEvent) -> Result<EventBody> {
    let member = e.body["member"].as_str().unwrap_or_default().to_string();
    let body = match e.kind.as_str() {
        "operator_add" => {
            let mut join = e.body.clone();
            if let Some(fields) = join.as_object_mut() {
                fields.remove("role");
                fields.insert("type".into(), "join_requested".into());
            }
            join
        }
        "enabled" | "timer" | "review" | "operator_remove" => {
            serde_json::json!({"type": "member_left", "member": member})
        }
        _ => e.body.clone(),
    };
    serde_json::from_value(body)
        .map_err(|err| ServiceError::Invalid(format!("recorded event {:?}: {err}", e.id)))
}

/// Compares the candidate's run of one event with the recorded one.
fn compare(
    report: &mut ReplayReport,
    event: &RecordedEvent,
    recorded: &[Invocation],
    ran: Vec<Observed>,
    refused: Option<ServiceError>,
) {
    let live: Vec<&Invocation> = recorded.iter().filter(|i| i.event_id == event.id).collect();
    let ran: Vec<&Observed> = ran.iter().filter(|o| o.plugin == report.plugin).collect();
    if live.is_empty() && ran.is_empty() && refused.is_none() {
        return;
    }
    report.compared += 1;
    let recorded_effects: Vec<Effect> = live.iter().flat_map(|i| i.effects.clone()).collect();
    let candidate_effects: Vec<Effect> = ran.iter().flat_map(|o| o.effects.clone()).collect();
    for (effects, side) in [(&recorded_effects, 0), (&candidate_effects, 1)] {
        for effect in effects.iter() {
            report.totals.entry(effect_kind(effect)).or_default()[side] += 1;
        }
    }
    let recorded_error = live.iter().find_map(|i| i.error.clone());
    let candidate_error = refused
        .map(|e| format!("refused: {e}"))
        .or_else(|| ran.iter().find_map(|o| o.error.clone()));
    if !runs_differ(
        (&recorded_effects, recorded_error.is_some()),
        (&candidate_effects, candidate_error.is_some()),
    ) {
        return;
    }
    report.differing += 1;
    if report.diffs.len() < MAX_DIFFS {
        report.diffs.push(EventDiff {
            event_id: event.id.clone(),
            kind: event.kind.clone(),
            at: event.received_at,
            recorded: recorded_effects,
            candidate: candidate_effects,
            recorded_error,
            candidate_error,
        });
    }
}

/// Whether two runs of one event (the live version's and a candidate's,
/// in a replay or in shadow) differ: in the effects they asked for, or in
/// one failing and not the other. Each run: (effects, failed).
pub(super) fn runs_differ(a: (&[Effect], bool), b: (&[Effect], bool)) -> bool {
    a != b
}

/// An effect's kind as serialized: `post`, `transfer`, `storage_set`…
fn effect_kind(effect: &Effect) -> String {
    match serde_json::to_value(effect) {
        Ok(Value::Object(fields)) => fields
            .get("effect")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        _ => "?".into(),
    }
}
