//! Processing one event: host effects, the group's plugins in order, then
//! one transaction with the processing record. Idempotent by event id
//! within its group.
//!
//! While an event runs, its code holds an [`EventCtx`] and the event's
//! [`Batch`], not the service: the only store it can reach is the batch's
//! view (`Store::for_event`), so every read of the event goes through it.

mod commit;
mod gate;
mod invoke;
mod join;
mod member;
mod message;
mod payment;
mod timer;

use super::*;
use crate::store::{Enablement, Invocation, Timer};
use serde::{Deserialize, Serialize};

/// Why an event is processed: it changes which plugins run.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// From the adapter or the API: every enabled plugin with a handler.
    Normal,
    /// The operator adds a member with a role: no gate runs.
    OperatorAdd(Role),
    /// A reviewer decides a pending request.
    Review {
        member: MemberId,
        approve: bool,
        reason: String,
    },
    /// A timer fired: only its plugin runs.
    Timer(Timer),
    /// A plugin was enabled: only it runs `on-enabled`.
    Enabled(String),
    /// The operator removes a member (games and flows see the departure).
    OperatorRemove { member: MemberId, reason: String },
}

/// What became of a join request the event made or decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinOutcome {
    /// The join request's id; empty when the member was already active.
    pub request_id: String,
    pub member: MemberId,
    pub status: JoinStatus,
    pub reason: String,
    pub redirect_to: Option<GroupId>,
}

/// One handler run for the event, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvocationSummary {
    pub plugin: String,
    /// The handler's WIT name, e.g. `on-message`.
    pub handler: String,
    pub ok: bool,
    pub error: Option<String>,
}

/// What processing an event did, as recorded and returned to the sender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventOutcome {
    /// The event's id, as sent.
    pub event_id: String,
    /// True when this id had been processed before: nothing was done again.
    #[serde(default)]
    pub duplicate: bool,
    /// For join requests and challenge answers: what became of the request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub join: Option<JoinOutcome>,
    /// The id of the stored message, for message events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message_id: Option<String>,
    /// Each handler that ran for the event, in order.
    pub invocations: Vec<InvocationSummary>,
    /// Remarks, e.g. why no plugin ran.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// The work of one event, built up before it is committed.
struct Batch {
    /// The event's view of the store (reads once per event).
    store: crate::store::Store,
    group: Group,
    event_id: String,
    now: Millis,
    /// Every effect in order, with the plugin that made it (None: the host).
    effects: Vec<(Option<String>, Effect)>,
    invocations: Vec<Invocation>,
    /// What versions in shadow did, by plugin (recorded, never applied).
    shadow_runs: Vec<(String, crate::store::ShadowRun)>,
    outcome: EventOutcome,
}

impl Batch {
    fn new(store: crate::store::Store, group: Group, event_id: &str, now: Millis) -> Batch {
        Batch {
            store,
            group,
            event_id: event_id.to_string(),
            now,
            effects: vec![],
            invocations: vec![],
            shadow_runs: vec![],
            outcome: EventOutcome {
                event_id: event_id.to_string(),
                duplicate: false,
                join: None,
                message_id: None,
                invocations: vec![],
                note: None,
            },
        }
    }
    fn host(&mut self, effect: Effect) {
        self.effects.push((None, effect));
    }
    fn plain_effects(&self) -> Vec<Effect> {
        self.effects.iter().map(|(_, e)| e.clone()).collect()
    }
    fn member(&self, stored: Option<Member>, id: &str) -> Option<Member> {
        resolve_member(stored, id, &self.plain_effects(), self.now)
    }
}

/// What the code running an event may use besides its [`Batch`]. It holds
/// no `Kith`, so no store other than the batch's view is in reach.
struct EventCtx<'a> {
    runtime: &'a Arc<Runtime>,
    /// The group's plugins that run, in order.
    enablements: &'a [Enablement],
    /// Where every invocation's report is kept, when observing.
    observed: &'a Mutex<Option<Vec<Observed>>>,
}

impl EventCtx<'_> {
    /// Runs the event's own part: what its mode asks, or else its body.
    async fn run(&self, b: &mut Batch, event: &IncomingEvent, mode: Mode) -> Result<()> {
        match mode {
            Mode::Timer(timer) => self.timer(b, timer).await,
            Mode::Enabled(plugin) => {
                self.run_plugins(b, &PluginEvent::Enabled, Some(&plugin))
                    .await
            }
            Mode::Review {
                member,
                approve,
                reason,
            } => self.review(b, member, approve, reason).await,
            Mode::OperatorAdd(role) => self.body(b, &event.body, Some(role)).await,
            Mode::OperatorRemove { member, reason } => self.removed(b, &member, reason).await,
            Mode::Normal => self.body(b, &event.body, None).await,
        }
    }

    /// One function per kind of event; `operator` is the role of a member
    /// the operator adds.
    async fn body(&self, b: &mut Batch, body: &EventBody, operator: Option<Role>) -> Result<()> {
        match body {
            EventBody::Message {
                sender,
                text,
                kind,
                mentions,
                reply_to,
                message_id,
            } => {
                let message =
                    message::message_of(b, sender, text, *kind, mentions, reply_to, message_id);
                self.message(b, message).await
            }
            EventBody::Reaction {
                message_id,
                member,
                emoji,
            } => self.reaction(b, message_id, member, emoji).await,
            EventBody::Payment {
                payment_id,
                member,
                amount,
                currency,
                status,
                purpose,
            } => {
                let payment =
                    payment::payment_of(payment_id, member, *amount, currency, *status, purpose);
                self.payment(b, payment).await
            }
            EventBody::JoinRequested(input) => self.join_request(b, input, operator).await,
            EventBody::ChallengeAnswer { member, answer } => {
                self.challenge_answer(b, member, answer).await
            }
            EventBody::MemberLeft { member } => self.member_left(b, member).await,
        }
    }
}

/// The event as recorded, so that a group's history can be replayed: an
/// adapter's event as sent; what the host makes (a timer firing, a plugin
/// enabled, an operator's review, addition or removal) as what it is, not
/// as the placeholder body that carries it through the pipeline. The same
/// occurrence gives the same text (a retried timer is recognised).
fn recorded_body(event: &IncomingEvent, mode: &Mode) -> String {
    let recorded = match mode {
        // As always (field order kept): a retry compares with it.
        Mode::Normal => return serde_json::to_string(&event.body).expect("serializable"),
        Mode::OperatorAdd(role) => {
            let mut body = serde_json::to_value(&event.body).expect("serializable");
            body["type"] = "operator_add".into();
            body["role"] = serde_json::to_value(role).expect("serializable");
            body
        }
        Mode::Review {
            member,
            approve,
            reason,
        } => serde_json::json!({
            "type": "review", "member": member, "approve": approve, "reason": reason
        }),
        Mode::Timer(t) => serde_json::json!({
            "type": "timer", "plugin": t.plugin, "name": t.name, "due_at": t.due_at,
            "period_ms": t.period_ms, "payload": t.payload
        }),
        Mode::Enabled(plugin) => serde_json::json!({"type": "enabled", "plugin": plugin}),
        Mode::OperatorRemove { member, reason } => serde_json::json!({
            "type": "operator_remove", "member": member, "reason": reason
        }),
    };
    recorded.to_string()
}

/// The kind an event is recorded (and counted) as.
fn kind_of_mode(mode: &Mode, body: &EventBody) -> &'static str {
    match mode {
        Mode::Normal => kind_of(body),
        Mode::OperatorAdd(_) => "operator_add",
        Mode::Review { .. } => "review",
        Mode::Timer(_) => "timer",
        Mode::Enabled(_) => "enabled",
        Mode::OperatorRemove { .. } => "operator_remove",
    }
}

fn kind_of(body: &EventBody) -> &'static str {
    match body {
        EventBody::Message { .. } => "message",
        EventBody::Reaction { .. } => "reaction",
        EventBody::Payment { .. } => "payment",
        EventBody::JoinRequested(_) => "join_requested",
        EventBody::ChallengeAnswer { .. } => "challenge_answer",
        EventBody::MemberLeft { .. } => "member_left",
    }
}

impl Kith {
    /// Processes an event from the adapter, at most once per event id.
    ///
    /// # Errors
    /// `Invalid`/`NotFound`/`Unprocessable` for events that cannot apply to
    /// the group; nothing is recorded then, so a corrected retry works.
    pub async fn ingest(&self, event: IncomingEvent) -> Result<EventOutcome> {
        self.process_with(event, Mode::Normal).await
    }

    pub(crate) async fn process_with(
        &self,
        event: IncomingEvent,
        mode: Mode,
    ) -> Result<EventOutcome> {
        if event.id.trim().is_empty() || event.id.len() > 200 {
            return Err(ServiceError::Invalid("event id must be 1-200 bytes".into()));
        }
        if let Some(at) = event.at {
            check_event_time(at, self.clock.now()).map_err(ServiceError::Unprocessable)?;
        }
        let kind = kind_of_mode(&mode, &event.body);
        let result = self.process_in_turn(event, mode, kind).await;
        crate::telemetry::event(
            kind,
            match &result {
                Ok(o) if o.duplicate => "duplicate",
                Ok(_) => "ok",
                Err(ServiceError::Internal(_)) => "error",
                Err(_) => "refused",
            },
        );
        let outcome = result?;
        if !outcome.duplicate {
            self.forward_redirect(&outcome).await;
        }
        Ok(outcome)
    }

    /// Processes the event in its group's turn (the group's lock held).
    async fn process_in_turn(
        &self,
        event: IncomingEvent,
        mode: Mode,
        kind: &str,
    ) -> Result<EventOutcome> {
        let mut turn = self.group_turn(&event.group).await?;
        // A retry waits for the first attempt (the lock), then is found at
        // commit, where its id is already taken: retries are rare, so the
        // common case pays no read for them. A retry refused before its
        // commit (its member has left since, say) gets its first outcome too.
        let (group, id) = (event.group.clone(), event.id.clone());
        let body = recorded_body(&event, &mode);
        match self
            .process_locked(event, mode, kind, &body, &mut turn)
            .await
        {
            Err(
                refused @ (ServiceError::Invalid(_)
                | ServiceError::NotFound(_)
                | ServiceError::Conflict(_)
                | ServiceError::Unprocessable(_)),
            ) => match self.duplicate(&group, &id, &body).await? {
                Some(done) => Ok(done),
                None => Err(refused),
            },
            other => other,
        }
    }

    async fn process_locked(
        &self,
        event: IncomingEvent,
        mode: Mode,
        kind: &str,
        body: &str,
        turn: &mut GroupTurn,
    ) -> Result<EventOutcome> {
        let store = self.store.for_event();
        let group = super::groups::writable(store.get_group(&event.group).await?)?;
        let now = event.at.unwrap_or_else(|| self.clock.now());
        let mut batch = Batch::new(store, group, &event.id, now);
        // Plugins the host switched off (too many failures) no longer run.
        let enablements = batch.store.active_enablements(&batch.group.id).await?;
        let cx = EventCtx {
            runtime: &self.runtime,
            enablements: &enablements,
            observed: &self.observed,
        };
        cx.run(&mut batch, &event, mode).await?;
        cx.announce_membership_changes(&mut batch).await?;
        batch.outcome.invocations = batch
            .invocations
            .iter()
            .map(|i| InvocationSummary {
                plugin: i.plugin.clone(),
                handler: i.handler.clone(),
                ok: i.ok,
                error: i.error.clone(),
            })
            .collect();
        let tx = turn.begin(&self.store).await?;
        self.commit(tx, batch, &enablements, kind, body).await
    }

    /// A redirected applicant arrives in the target group as a join request
    /// there, which its gates decide. Run after the redirecting event has
    /// committed and released its group (two groups redirecting to each
    /// other cannot deadlock); idempotent by an id derived from the request.
    async fn forward_redirect(&self, outcome: &EventOutcome) {
        let Some(join) = &outcome.join else { return };
        let (JoinStatus::Redirected, Some(to)) = (join.status, &join.redirect_to) else {
            return;
        };
        let forwarded = async {
            let request = self.store.get_join_request(&join.request_id).await?;
            let event = IncomingEvent {
                id: format!("redirect:{}", request.id),
                group: to.clone(),
                at: None,
                body: EventBody::JoinRequested(JoinRequestInput {
                    member: request.member,
                    display_name: Some(request.display_name),
                    invite_code: None,
                    referral_code: None,
                    referrer: None,
                    answer: None,
                    payload: Some(request.payload),
                }),
            };
            Box::pin(self.process_with(event, Mode::Normal)).await
        };
        if let Err(e) = forwarded.await {
            tracing::warn!(group = %to, member = %join.member, "redirected applicant not forwarded: {e}");
        }
    }

    /// The first outcome of a group's event id sent again. The same id
    /// with another body is not a retry: a conflict, so it is not lost
    /// silently.
    async fn duplicate(&self, group: &str, id: &str, body: &str) -> Result<Option<EventOutcome>> {
        let Some((first, outcome)) = self.store.event_record(group, id).await? else {
            return Ok(None);
        };
        if first != body {
            return Err(ServiceError::Conflict(format!(
                "event {id:?} was already processed in group {group:?} with a different body; \
                 event ids are unique per group"
            )));
        }
        let mut o: EventOutcome =
            serde_json::from_value(outcome).map_err(|e| ServiceError::Internal(e.into()))?;
        o.duplicate = true;
        Ok(Some(o))
    }
}
