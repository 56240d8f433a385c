//! The gate stage: the group's entry gates asked in order about a join
//! request (or a challenge's answer), down to one [`GateVerdict`].

use super::invoke::Ran;
use super::*;
use crate::runtime::HandlerOutput;

/// What the gates decided on a join request, before the host's own checks
/// (capacity, the redirect's target) in `decide`.
pub(super) enum GateVerdict {
    /// No gate objected; the reason is the last admitting gate's (or the host's).
    Admit { reason: String },
    /// A gate declined, or failed closed.
    Reject { reason: String },
    /// A gate sent the member to another group.
    Redirect { group: GroupId, reason: String },
    /// The request waits on `plugin`: for an answer to its challenge, or
    /// for a reviewer.
    Pending { plugin: String, reason: String },
}

impl GateVerdict {
    /// A gate's decision, made by `plugin`.
    fn by(plugin: &str, decision: Decision) -> GateVerdict {
        match decision {
            Decision::Admit { reason } => GateVerdict::Admit { reason },
            Decision::Reject { reason } => GateVerdict::Reject { reason },
            Decision::Redirect { group, reason } => GateVerdict::Redirect { group, reason },
            Decision::Pending { reason } => GateVerdict::Pending {
                plugin: plugin.to_string(),
                reason,
            },
        }
    }
}

/// One gate's answer.
enum GateAnswer {
    /// The gate is not enabled, or its world has no such handler.
    NotAsked,
    Decided(Decision),
    /// The gate failed, was stopped, or returned no decision.
    Failed(String),
}

impl EventCtx<'_> {
    /// Asks the gates in order, after `after` (a gate that already admitted),
    /// and returns the first answer that is not `admit`.
    pub(super) async fn run_gates(
        &self,
        b: &mut Batch,
        request: &JoinRequest,
        after: Option<&str>,
    ) -> Result<GateVerdict> {
        let start = after
            .and_then(|p| self.enablements.iter().position(|e| e.plugin == p))
            .map_or(0, |i| i + 1);
        let mut verdict = GateVerdict::Admit {
            reason: "no gate objected".into(),
        };
        for e in &self.enablements[start..] {
            let event = PluginEvent::JoinRequest(request.clone());
            match self.ask_gate(b, e, &event).await? {
                GateAnswer::NotAsked => continue,
                GateAnswer::Decided(Decision::Admit { reason }) => {
                    verdict = GateVerdict::Admit { reason }
                }
                GateAnswer::Decided(other) => return Ok(GateVerdict::by(&e.plugin, other)),
                // Fail open, if the operator chose it: the next gate decides.
                GateAnswer::Failed(_) if e.policy.gate_failure == GateFailure::Open => continue,
                // Fail closed: a broken gate must not let people in.
                GateAnswer::Failed(error) => {
                    let reason = format!("gate {} failed, try again later: {error}", e.plugin);
                    return Ok(GateVerdict::Reject { reason });
                }
            }
        }
        Ok(verdict)
    }

    /// The gate a pending request waits on judges the member's answer;
    /// passing it lets the gates after it have their say.
    pub(super) async fn challenge_answer(
        &self,
        b: &mut Batch,
        member: &MemberId,
        answer: &str,
    ) -> Result<()> {
        let gid = &b.group.id;
        let mut request = b
            .store
            .pending_join_request(gid, member)
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
        let event = PluginEvent::ChallengeAnswer(request.clone(), answer.to_string());
        let judged = match self.enablements.iter().find(|e| e.plugin == plugin) {
            Some(e) => self.ask_gate(b, e, &event).await?,
            None => GateAnswer::NotAsked,
        };
        request.answer = Some(answer.to_string());
        let verdict = match judged {
            // Passing one gate's challenge is passing that gate: the gates
            // after it in the order still have their say.
            GateAnswer::Decided(Decision::Admit { reason }) => {
                match self.run_gates(b, &request, Some(&plugin)).await? {
                    GateVerdict::Admit { .. } => GateVerdict::Admit { reason },
                    later => later,
                }
            }
            GateAnswer::Decided(other) => GateVerdict::by(&plugin, other),
            GateAnswer::Failed(e) => GateVerdict::Reject {
                reason: format!("gate {plugin} failed: {e}"),
            },
            GateAnswer::NotAsked => GateVerdict::Reject {
                reason: format!("gate {plugin} is no longer enabled"),
            },
        };
        self.decide(b, request, verdict).await
    }

    /// A gate that approves a request it holds (outside a gate handler: a
    /// payment, a reviewer's command) has passed it, no more: the gates
    /// after it in the order decide next. `from` is where the plugin's
    /// effects start in the batch; an approval the later gates do not
    /// confirm is taken out and their verdict applied instead.
    pub(super) async fn resume_gates(
        &self,
        b: &mut Batch,
        plugin: &str,
        from: usize,
    ) -> Result<()> {
        let (mut i, mut end) = (from, b.effects.len());
        while i < end {
            let member = match &b.effects[i] {
                (Some(p), Effect::Approve { member, .. }) if p == plugin => member.clone(),
                _ => {
                    i += 1;
                    continue;
                }
            };
            let effects = b.plain_effects();
            let held = b
                .store
                .pending_join_request_seen(&b.group.id, &member, &effects[..i])
                .await?
                .filter(|r| r.pending_plugin.as_deref() == Some(plugin));
            let Some(request) = held else {
                i += 1;
                continue;
            };
            let approval = b.effects.remove(i);
            match self.run_gates(b, &request, Some(plugin)).await? {
                GateVerdict::Admit { .. } => {
                    b.effects.insert(i, approval);
                    i += 1;
                }
                later => {
                    end -= 1;
                    self.decide(b, request, later).await?;
                }
            }
        }
        Ok(())
    }

    /// Runs a gate handler (`on-join-request` or `on-challenge-answer`).
    async fn ask_gate(
        &self,
        b: &mut Batch,
        e: &Enablement,
        event: &PluginEvent,
    ) -> Result<GateAnswer> {
        Ok(match self.invoke(b, e, event).await? {
            Ran::Skipped => GateAnswer::NotAsked,
            Ran::Output(HandlerOutput::Decision(d)) => GateAnswer::Decided(d),
            Ran::Output(_) => GateAnswer::Failed("the gate returned no decision".into()),
            Ran::Failed(error) => GateAnswer::Failed(error),
        })
    }
}
