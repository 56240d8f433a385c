//! Processing one event: host effects, the group's plugins in order, then
//! one transaction with the processing record. Idempotent by event id.

use super::*;
use crate::runtime::{HandlerOutput, InvocationContext};
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
}

/// The result of a join request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinOutcome {
    /// The join request's id; empty when the member was already active.
    pub request_id: String,
    pub member: MemberId,
    pub status: JoinStatus,
    pub reason: String,
    pub redirect_to: Option<GroupId>,
}

/// One plugin handler run while processing an event.
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
    pub event_id: String,
    /// True when this id had been processed before: nothing was done again.
    #[serde(default)]
    pub duplicate: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub join: Option<JoinOutcome>,
    /// The id of the stored message, for message events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message_id: Option<String>,
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
    outcome: EventOutcome,
}

impl Batch {
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
        let lock = self.group_lock(&event.group);
        let _guard = lock.lock().await;
        // A retry waits for the first attempt (the lock), then is found at
        // commit, where its id is already taken: retries are rare, so the
        // common case pays no read for them. A retry refused before its
        // commit (its member has left since, say) gets its first outcome too.
        let id = event.id.clone();
        match self.process_locked(event, mode).await {
            Err(
                refused @ (ServiceError::Invalid(_)
                | ServiceError::NotFound(_)
                | ServiceError::Conflict(_)
                | ServiceError::Unprocessable(_)),
            ) => match self.duplicate(&id).await? {
                Some(done) => Ok(done),
                None => Err(refused),
            },
            other => other,
        }
    }

    async fn process_locked(&self, event: IncomingEvent, mode: Mode) -> Result<EventOutcome> {
        let group = self.store.get_group(&event.group).await?;
        let now = event.at.unwrap_or_else(|| self.clock.now());
        let mut batch = Batch {
            store: self.store.for_event(),
            group,
            event_id: event.id.clone(),
            now,
            effects: vec![],
            invocations: vec![],
            outcome: EventOutcome {
                event_id: event.id.clone(),
                duplicate: false,
                join: None,
                message_id: None,
                invocations: vec![],
                note: None,
            },
        };
        let kind = match &mode {
            Mode::Normal => kind_of(&event.body),
            Mode::OperatorAdd(_) => "operator_add",
            Mode::Review { .. } => "review",
            Mode::Timer(_) => "timer",
            Mode::Enabled(_) => "enabled",
        };
        // Plugins the host switched off (too many failures) no longer run.
        let enablements = self.store.active_enablements(&batch.group.id).await?;
        self.run_event(&mut batch, &enablements, &event, mode)
            .await?;
        self.dispatch_membership_changes(&mut batch, &enablements)
            .await?;
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
        let body = serde_json::to_string(&event.body).expect("serializable");
        self.commit(batch, &enablements, kind, &body).await
    }

    async fn duplicate(&self, id: &str) -> Result<Option<EventOutcome>> {
        let recorded: Option<EventOutcome> = self.store.event_outcome(id).await?;
        Ok(recorded.map(|o| EventOutcome {
            duplicate: true,
            ..o
        }))
    }

    async fn run_event(
        &self,
        b: &mut Batch,
        enablements: &[Enablement],
        event: &IncomingEvent,
        mode: Mode,
    ) -> Result<()> {
        let gid = b.group.id.clone();
        match (&event.body, mode) {
            (_, Mode::Timer(timer)) => {
                // Reschedule first, so that the plugin's own timer calls win.
                let next = match timer.period_ms {
                    Some(p) if p > 0 => {
                        let p = p as i64;
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
                self.run_plugins(b, enablements, &fired, Some(&timer.plugin))
                    .await?;
            }
            (_, Mode::Enabled(plugin)) => {
                self.run_plugins(b, enablements, &PluginEvent::Enabled, Some(&plugin))
                    .await?;
            }
            (
                _,
                Mode::Review {
                    member,
                    approve,
                    reason,
                },
            ) => {
                let stored = b.store.get_member(&gid, &member).await?;
                match b.member(stored, &member) {
                    Some(m) if m.status == MemberStatus::Pending => {}
                    _ => {
                        return Err(ServiceError::Conflict(format!(
                            "member {member:?} has no pending join request"
                        )))
                    }
                }
                let request = b.store.pending_join_request(&gid, &member).await?;
                b.host(if approve {
                    Effect::Approve {
                        member: member.clone(),
                        reason: reason.clone(),
                    }
                } else {
                    Effect::Decline {
                        member: member.clone(),
                        reason: reason.clone(),
                    }
                });
                b.outcome.join = request.map(|r| JoinOutcome {
                    request_id: r.id,
                    member,
                    status: if approve {
                        JoinStatus::Admitted
                    } else {
                        JoinStatus::Rejected
                    },
                    reason,
                    redirect_to: None,
                });
            }
            (
                EventBody::Message {
                    sender,
                    text,
                    kind,
                    mentions,
                    reply_to,
                    message_id,
                },
                _,
            ) => {
                super::groups::validate_member_id(sender)?;
                if text.len() > 64 * 1024 {
                    return Err(ServiceError::Invalid("message text is over 64 KiB".into()));
                }
                let member = self.present_member(b, sender).await?;
                let message = Message {
                    id: message_id
                        .clone()
                        // From the event id: a replayed event names the same message.
                        .unwrap_or_else(|| format!("m-{}", b.event_id)),
                    group: gid.clone(),
                    sender: sender.clone(),
                    kind: *kind,
                    text: text.clone(),
                    mentions: mentions.clone(),
                    reply_to: reply_to.clone(),
                    links: find_links(text),
                    sent_at: b.now,
                    deleted: false,
                };
                // A message id already taken is refused at commit (apply.rs).
                b.outcome.message_id = Some(message.id.clone());
                b.host(Effect::PutMessage {
                    message: message.clone(),
                });
                b.host(Effect::Touch {
                    member: sender.clone(),
                    at: b.now,
                });
                if member.status == MemberStatus::Active {
                    self.run_plugins(b, enablements, &PluginEvent::Message(message), None)
                        .await?;
                } else {
                    b.outcome.note = Some(format!(
                        "sender is {}: message kept, no plugin ran",
                        member.status
                    ));
                }
            }
            (
                EventBody::Reaction {
                    message_id,
                    member,
                    emoji,
                },
                _,
            ) => {
                super::groups::validate_member_id(member)?;
                let message = self
                    .store
                    .get_message(&gid, message_id)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Unprocessable(format!(
                            "no message {message_id:?} in group {gid:?}"
                        ))
                    })?;
                let reactor = self.present_member(b, member).await?;
                b.host(Effect::Touch {
                    member: member.clone(),
                    at: b.now,
                });
                if reactor.status == MemberStatus::Active {
                    let reaction = Reaction {
                        message_id: message_id.clone(),
                        member: member.clone(),
                        author: message.sender,
                        emoji: emoji.clone(),
                    };
                    self.run_plugins(b, enablements, &PluginEvent::Reaction(reaction), None)
                        .await?;
                }
            }
            (
                EventBody::Payment {
                    payment_id,
                    member,
                    amount,
                    currency,
                    status,
                    purpose,
                },
                _,
            ) => {
                if *amount <= 0 {
                    return Err(ServiceError::Invalid(format!(
                        "payment amount must be positive, got {amount}"
                    )));
                }
                if b.store.get_member(&gid, member).await?.is_none() {
                    return Err(ServiceError::Unprocessable(format!(
                        "no member {member:?} in group {gid:?}; send a join request first"
                    )));
                }
                let payment = Payment {
                    id: payment_id.clone(),
                    member: member.clone(),
                    amount: *amount,
                    currency: currency.clone(),
                    status: *status,
                    purpose: purpose.clone(),
                };
                let wallet = format!("member:{member}");
                if *status == PaymentStatus::Succeeded {
                    b.host(Effect::Transfer {
                        id: format!("{payment_id}:in"),
                        from: "external".into(),
                        to: wallet.clone(),
                        asset: Asset::Money,
                        amount: *amount,
                        memo: format!("payment {payment_id} {purpose}"),
                    });
                }
                self.run_plugins(b, enablements, &PluginEvent::Payment(payment), None)
                    .await?;
                if *status == PaymentStatus::Refunded {
                    self.refund(b, payment_id, &wallet, *amount).await?;
                }
            }
            (EventBody::JoinRequested(input), mode) => {
                self.join_request(b, enablements, input, mode).await?
            }
            (EventBody::ChallengeAnswer { member, answer }, _) => {
                let request = self
                    .store
                    .pending_join_request(&gid, member)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Unprocessable(format!(
                            "member {member:?} has no pending join request in {gid:?}"
                        ))
                    })?;
                let Some(plugin) = request.pending_plugin.clone() else {
                    return Err(ServiceError::Conflict(
                        "this request awaits a reviewer, not an answer".into(),
                    ));
                };
                let event = PluginEvent::ChallengeAnswer(request.clone(), answer.clone());
                let decision = match self
                    .run_plugins(b, enablements, &event, Some(&plugin))
                    .await?
                {
                    Some(Ok(d)) => d,
                    Some(Err(e)) => Decision::Reject {
                        reason: format!("gate {plugin} failed: {e}"),
                    },
                    None => Decision::Reject {
                        reason: format!("gate {plugin} is no longer enabled"),
                    },
                };
                let mut request = request;
                request.answer = Some(answer.clone());
                // Passing one gate's challenge is passing that gate: the
                // gates after it in the order still have their say.
                let (decision, decider) = match decision {
                    Decision::Admit { reason } => match self
                        .run_gates(b, enablements, &request, Some(&plugin))
                        .await?
                    {
                        (Decision::Admit { .. }, None) => {
                            (Decision::Admit { reason }, Some(plugin))
                        }
                        later => later,
                    },
                    other => (other, Some(plugin)),
                };
                self.decide(b, request, decision, decider).await?;
            }
            (EventBody::MemberLeft { member }, _) => {
                let stored = b.store.get_member(&gid, member).await?;
                match b.member(stored, member) {
                    Some(m) if m.status == MemberStatus::Active => b.host(Effect::Leave {
                        member: member.clone(),
                    }),
                    _ => {
                        return Err(ServiceError::Unprocessable(format!(
                            "{member:?} is not an active member of {gid:?}"
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// A member who speaks or reacts is in the group on the platform: one the
    /// host did not know yet is registered as an active member.
    async fn present_member(&self, b: &mut Batch, id: &str) -> Result<Member> {
        let stored = b.store.get_member(&b.group.id, id).await?;
        if let Some(m) = b.member(stored, id) {
            return Ok(m);
        }
        let mut m = Member::new(&b.group.id, id, id);
        m.status = MemberStatus::Active;
        m.joined_at = Some(b.now);
        b.host(Effect::PutMember { member: m.clone() });
        Ok(m)
    }

    /// Returns refunded money: from the member's wallet, and what the wallet
    /// lacks from the group's treasury (where an entry fee went).
    async fn refund(
        &self,
        b: &mut Batch,
        payment_id: &str,
        wallet: &str,
        amount: i64,
    ) -> Result<()> {
        let effects = b.plain_effects();
        let gid = &b.group.id;
        let in_wallet = b.store.balance(gid, wallet, Asset::Money).await?
            + balance_delta(wallet, Asset::Money, &effects);
        let in_group = b.store.balance(gid, "group", Asset::Money).await?
            + balance_delta("group", Asset::Money, &effects);
        let from_wallet = amount.min(in_wallet.max(0));
        let from_group = (amount - from_wallet).min(in_group.max(0));
        for (from, part, tag) in [(wallet, from_wallet, "w"), ("group", from_group, "g")] {
            if part > 0 {
                b.host(Effect::Transfer {
                    id: format!("{payment_id}:refund-{tag}"),
                    from: from.into(),
                    to: "external".into(),
                    asset: Asset::Money,
                    amount: part,
                    memo: format!("refund of payment {payment_id}"),
                });
            }
        }
        if from_wallet + from_group < amount {
            b.outcome.note = Some(format!(
                "refund of {amount}: only {} could be returned from the ledger",
                from_wallet + from_group
            ));
        }
        Ok(())
    }

    async fn join_request(
        &self,
        b: &mut Batch,
        enablements: &[Enablement],
        input: &JoinRequestInput,
        mode: Mode,
    ) -> Result<()> {
        let gid = b.group.id.clone();
        super::groups::validate_member_id(&input.member)?;
        let stored = b.store.get_member(&gid, &input.member).await?;
        if let Some(m) = &stored {
            if m.status == MemberStatus::Active {
                let role_change = matches!(mode, Mode::OperatorAdd(r) if r != m.role);
                if let Mode::OperatorAdd(role) = mode {
                    if role_change {
                        b.host(Effect::PutMember {
                            member: Member { role, ..m.clone() },
                        });
                    }
                }
                b.outcome.join = Some(JoinOutcome {
                    request_id: String::new(),
                    member: m.id.clone(),
                    status: JoinStatus::Admitted,
                    reason: "already a member".into(),
                    redirect_to: None,
                });
                return Ok(());
            }
            if m.status == MemberStatus::Pending {
                if let Some(r) = b.store.pending_join_request(&gid, &m.id).await? {
                    b.outcome.join = Some(JoinOutcome {
                        request_id: r.id,
                        member: m.id.clone(),
                        status: JoinStatus::Pending,
                        reason: r.reason.unwrap_or_default(),
                        redirect_to: None,
                    });
                    return Ok(());
                }
            }
        }
        // Attribution is recorded at join: a referrer must be an active member.
        let referrer = match &input.referrer {
            Some(r) if r != &input.member => self
                .store
                .get_member(&gid, r)
                .await?
                .filter(|m| m.status == MemberStatus::Active)
                .map(|m| m.id),
            _ => None,
        };
        let display_name = input
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| input.member.clone());
        let mut member = stored.unwrap_or_else(|| Member::new(&gid, &input.member, &display_name));
        member.display_name = display_name.clone();
        member.status = MemberStatus::Pending;
        member.inviter = referrer.clone().or(member.inviter);
        if let Mode::OperatorAdd(role) = mode {
            member.role = role;
        }
        let request = JoinRequest {
            // From the event id, so that a replay (and a plugin's record of it) is deterministic.
            id: format!("jr-{:016x}", seed_of(&[&b.event_id])),
            group: gid.clone(),
            member: input.member.clone(),
            display_name,
            invite_code: input.invite_code.clone(),
            referrer,
            answer: input.answer.clone(),
            payload: input.payload.clone().unwrap_or(serde_json::Value::Null),
            status: JoinStatus::Pending,
            reason: None,
            redirect_to: None,
            pending_plugin: None,
            requested_at: b.now,
            decided_at: None,
        };
        b.host(Effect::PutMember { member });
        b.host(Effect::PutJoinRequest {
            request: request.clone(),
        });
        if let Mode::OperatorAdd(_) = mode {
            return self
                .decide(
                    b,
                    request,
                    Decision::Admit {
                        reason: "added by the operator".into(),
                    },
                    None,
                )
                .await;
        }
        let (decision, decider) = self.run_gates(b, enablements, &request, None).await?;
        self.decide(b, request, decision, decider).await
    }

    /// Asks the gates in order, after `after` (a gate that already admitted),
    /// and returns the first answer that is not `admit`, with its gate.
    async fn run_gates(
        &self,
        b: &mut Batch,
        enablements: &[Enablement],
        request: &JoinRequest,
        after: Option<&str>,
    ) -> Result<(Decision, Option<String>)> {
        let start = after
            .and_then(|p| enablements.iter().position(|e| e.plugin == p))
            .map_or(0, |i| i + 1);
        let mut decision = Decision::Admit {
            reason: "no gate objected".into(),
        };
        for e in &enablements[start..] {
            let event = PluginEvent::JoinRequest(request.clone());
            let Some(result) = self
                .run_plugins(b, std::slice::from_ref(e), &event, None)
                .await?
            else {
                continue;
            };
            match result {
                Ok(Decision::Admit { reason }) => decision = Decision::Admit { reason },
                Ok(other) => return Ok((other, Some(e.plugin.clone()))),
                // Fail open, if the operator chose it: the next gate decides.
                Err(_) if e.policy.gate_failure == GateFailure::Open => continue,
                // Fail closed: a broken gate must not let people in.
                Err(error) => {
                    let reason = format!("gate {} failed, try again later: {error}", e.plugin);
                    return Ok((Decision::Reject { reason }, Some(e.plugin.clone())));
                }
            }
        }
        Ok((decision, None))
    }

    /// Applies a decision on a join request, enforcing the group's capacity.
    async fn decide(
        &self,
        b: &mut Batch,
        mut request: JoinRequest,
        decision: Decision,
        decider: Option<String>,
    ) -> Result<()> {
        let mut decision = decision;
        if let Decision::Admit { .. } = decision {
            let counts = b.store.counts(&b.group.id).await?;
            if counts.active >= b.group.capacity {
                decision = Decision::Reject {
                    reason: format!("the group is full ({} members)", b.group.capacity),
                };
            }
        }
        if let Decision::Redirect { group, .. } = &decision {
            if group == &b.group.id || b.store.get_group(group).await.is_err() {
                decision = Decision::Reject {
                    reason: format!("redirect to unknown group {group:?}"),
                };
            }
        }
        let member = request.member.clone();
        let reason = decision.reason().to_string();
        match &decision {
            Decision::Admit { .. } => b.host(Effect::Approve {
                member: member.clone(),
                reason: reason.clone(),
            }),
            Decision::Reject { .. } => b.host(Effect::Decline {
                member: member.clone(),
                reason: reason.clone(),
            }),
            Decision::Redirect { group, .. } => b.host(Effect::Redirect {
                member: member.clone(),
                group: group.clone(),
                reason: reason.clone(),
            }),
            Decision::Pending { .. } => {
                request.status = JoinStatus::Pending;
                request.reason = Some(reason.clone());
                request.pending_plugin = decider;
                b.host(Effect::PutJoinRequest {
                    request: request.clone(),
                });
            }
        }
        b.outcome.join = Some(JoinOutcome {
            request_id: request.id,
            member,
            status: decision.status(),
            reason,
            redirect_to: match &decision {
                Decision::Redirect { group, .. } => Some(group.clone()),
                _ => None,
            },
        });
        Ok(())
    }

    /// After the event's own handlers: members who joined or left through
    /// this event are announced to games and flows. Bounded in depth.
    async fn dispatch_membership_changes(
        &self,
        b: &mut Batch,
        enablements: &[Enablement],
    ) -> Result<()> {
        let mut seen = 0;
        for _round in 0..3 {
            let fresh: Vec<Effect> = b.effects[seen..].iter().map(|(_, e)| e.clone()).collect();
            seen = b.effects.len();
            if fresh.is_empty() {
                break;
            }
            for effect in fresh {
                let (id, joined) = match &effect {
                    Effect::Approve { member, .. } => (member, true),
                    Effect::Leave { member } | Effect::Remove { member, .. } => (member, false),
                    _ => continue,
                };
                let stored = b.store.get_member(&b.group.id, id).await?;
                let Some(member) = b.member(stored, id) else {
                    continue;
                };
                let event = if joined {
                    PluginEvent::MemberJoined(member)
                } else {
                    PluginEvent::MemberLeft(member)
                };
                self.run_plugins(b, enablements, &event, None).await?;
            }
        }
        Ok(())
    }

    /// Runs `event` in each enabled plugin that handles it (or only in
    /// `only`), in order, keeping the effects of those that succeed. Returns
    /// the last gate decision, if the event asks for one.
    async fn run_plugins(
        &self,
        b: &mut Batch,
        enablements: &[Enablement],
        event: &PluginEvent,
        only: Option<&str>,
    ) -> Result<Option<Result<Decision, String>>> {
        let mut decision = None;
        for e in enablements {
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
            let (installed, loaded) = self.loaded(&e.plugin).await?;
            if !event.handled_by(installed.metadata.kind) {
                continue;
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
            let report = self
                .runtime
                .invoke(&loaded, ctx, b.plain_effects(), event)
                .await;
            if let Err(error) = &report.result {
                tracing::warn!(group = %b.group.id, plugin = %e.plugin, "{error}");
            }
            if let Some(seen) = self.observed.lock().expect("observed").as_mut() {
                seen.push(super::Observed {
                    group: b.group.id.clone(),
                    plugin: e.plugin.clone(),
                    handler: report.handler.to_string(),
                    failure: report.failure,
                    error: report.result.as_ref().err().cloned(),
                    fuel_used: report.fuel_used,
                    peak_memory: report.peak_memory,
                    duration: report.duration,
                    effects: report.effects.clone(),
                });
            }
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
            });
            b.effects.extend(
                report
                    .effects
                    .into_iter()
                    .map(|eff| (Some(e.plugin.clone()), eff)),
            );
            if matches!(
                event,
                PluginEvent::JoinRequest(_) | PluginEvent::ChallengeAnswer(..)
            ) {
                decision = Some(match report.result {
                    Ok(HandlerOutput::Decision(d)) => Ok(d),
                    Ok(_) => Err("the gate returned no decision".to_string()),
                    Err(e) => Err(e),
                });
            }
        }
        Ok(decision)
    }

    async fn commit(
        &self,
        b: Batch,
        enablements: &[Enablement],
        kind: &str,
        body: &str,
    ) -> Result<EventOutcome> {
        let mut tx = self.store.begin().await?;
        if !tx
            .insert_event(&b.event_id, &b.group.id, kind, body, &b.outcome, b.now)
            .await?
        {
            drop(tx);
            return Ok(self.duplicate(&b.event_id).await?.expect("recorded"));
        }
        for (plugin, effect) in &b.effects {
            self.apply(&mut tx, &b.group.id, plugin.as_deref(), effect, b.now)
                .await?;
        }
        tx.insert_invocations(&b.invocations).await?;
        // A success only needs recording when it ends a run of failures.
        let had_failed = |plugin: &str| {
            enablements
                .iter()
                .any(|e| e.plugin == plugin && e.consecutive_failures > 0)
        };
        for inv in &b.invocations {
            if inv.error.is_some() || had_failed(&inv.plugin) {
                tx.record_outcome(&inv.group, &inv.plugin, inv.error.as_deref())
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(b.outcome)
    }
}
