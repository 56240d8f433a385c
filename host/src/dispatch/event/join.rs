//! Join requests: recorded as pending, put to the gates (or decided by the
//! operator or a reviewer), then decided within the group's rules.

use super::gate::GateVerdict;
use super::*;

impl EventCtx<'_> {
    /// A join request; `operator` is the role the operator adds the member
    /// with, and then no gate runs.
    pub(super) async fn join_request(
        &self,
        b: &mut Batch,
        input: &JoinRequestInput,
        operator: Option<Role>,
    ) -> Result<()> {
        super::super::groups::validate_member_id(&input.member)?;
        let stored = b.store.get_member(&b.group.id, &input.member).await?;
        if let Some(m) = &stored {
            if answered_before(b, m, operator).await? {
                return Ok(());
            }
            // A removal holds until the operator lifts it: the request is
            // refused without touching the member's row or asking a gate.
            if m.status == MemberStatus::Removed && operator.is_none() {
                let (_, request) = new_request(b, input, stored.clone(), None, None);
                b.host(Effect::PutJoinRequest {
                    request: request.clone(),
                });
                let reason = "removed from the group; the operator can lift the removal".into();
                return self
                    .decide(b, request, GateVerdict::Reject { reason })
                    .await;
            }
        }
        let referrer = referrer_of(b, input).await?;
        let (member, request) = new_request(b, input, stored, referrer, operator);
        b.host(Effect::PutMember { member });
        b.host(Effect::PutJoinRequest {
            request: request.clone(),
        });
        let verdict = match operator {
            Some(_) => GateVerdict::Admit {
                reason: "added by the operator".into(),
            },
            None => self.run_gates(b, &request, None).await?,
        };
        self.decide(b, request, verdict).await
    }

    /// A reviewer (operator or admin) approves or declines a pending request.
    pub(super) async fn review(
        &self,
        b: &mut Batch,
        member: MemberId,
        approve: bool,
        reason: String,
    ) -> Result<()> {
        let gid = b.group.id.clone();
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
        if !approve {
            // A decline ends the request whichever gate held it; that gate
            // finds the member no longer pending (see docs/plugin-guide.md).
            b.host(Effect::Decline {
                member: member.clone(),
                reason: reason.clone(),
            });
            b.outcome.join = request.map(|r| JoinOutcome {
                request_id: r.id,
                member,
                status: JoinStatus::Rejected,
                reason,
                redirect_to: None,
            });
            return Ok(());
        }
        let Some(request) = request else {
            return Err(ServiceError::Conflict(format!(
                "member {member:?} has no pending join request"
            )));
        };
        // The reviewer's approval passes the gate holding the request; the
        // gates after it still decide, and the capacity holds (`decide`).
        let verdict = match request.pending_plugin.as_deref() {
            Some(holder) => match self.run_gates(b, &request, Some(holder)).await? {
                GateVerdict::Admit { .. } => GateVerdict::Admit { reason },
                later => later,
            },
            None => GateVerdict::Admit { reason },
        };
        self.decide(b, request, verdict).await
    }

    /// Applies the gates' verdict on a join request, enforcing the group's
    /// capacity and checking a redirect's target.
    pub(super) async fn decide(
        &self,
        b: &mut Batch,
        mut request: JoinRequest,
        verdict: GateVerdict,
    ) -> Result<()> {
        let mut verdict = verdict;
        if let GateVerdict::Admit { .. } = verdict {
            let counts = b.store.counts(&b.group.id).await?;
            if b.group.members_toward_capacity(&counts) >= b.group.capacity {
                verdict = GateVerdict::Reject {
                    reason: format!("the group is full ({} members)", b.group.capacity),
                };
            }
        }
        if let GateVerdict::Redirect { group, .. } = &verdict {
            if group == &b.group.id || b.store.get_group(group).await.is_err() {
                verdict = GateVerdict::Reject {
                    reason: format!("redirect to unknown group {group:?}"),
                };
            }
        }
        let member = request.member.clone();
        let (status, reason, redirect_to) = match verdict {
            GateVerdict::Admit { reason } => {
                b.host(Effect::Approve {
                    member: member.clone(),
                    reason: reason.clone(),
                });
                (JoinStatus::Admitted, reason, None)
            }
            GateVerdict::Reject { reason } => {
                b.host(Effect::Decline {
                    member: member.clone(),
                    reason: reason.clone(),
                });
                (JoinStatus::Rejected, reason, None)
            }
            GateVerdict::Redirect { group, reason } => {
                b.host(Effect::Redirect {
                    member: member.clone(),
                    group: group.clone(),
                    reason: reason.clone(),
                });
                (JoinStatus::Redirected, reason, Some(group))
            }
            GateVerdict::Pending { plugin, reason } => {
                request.status = JoinStatus::Pending;
                request.reason = Some(reason.clone());
                request.pending_plugin = Some(plugin);
                b.host(Effect::PutJoinRequest {
                    request: request.clone(),
                });
                (JoinStatus::Pending, reason, None)
            }
        };
        b.outcome.join = Some(JoinOutcome {
            request_id: request.id,
            member,
            status,
            reason,
            redirect_to,
        });
        Ok(())
    }
}

/// A request from a member already in the group, or already waiting, gets
/// the answer it had: true when it is answered so.
async fn answered_before(b: &mut Batch, m: &Member, operator: Option<Role>) -> Result<bool> {
    if m.status == MemberStatus::Active {
        if let Some(role) = operator.filter(|r| *r != m.role) {
            b.host(Effect::PutMember {
                member: Member { role, ..m.clone() },
            });
        }
        b.outcome.join = Some(JoinOutcome {
            request_id: String::new(),
            member: m.id.clone(),
            status: JoinStatus::Admitted,
            reason: "already a member".into(),
            redirect_to: None,
        });
        return Ok(true);
    }
    if m.status == MemberStatus::Pending {
        if let Some(r) = b.store.pending_join_request(&b.group.id, &m.id).await? {
            b.outcome.join = Some(JoinOutcome {
                request_id: r.id,
                member: m.id.clone(),
                status: JoinStatus::Pending,
                reason: r.reason.unwrap_or_default(),
                redirect_to: None,
            });
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whom a join is attributed to: the owner of the referral code it names,
/// when they are an active member other than the applicant. Attribution is
/// recorded at join, and only a code the group issued attributes; a code it
/// did not issue (forged, mistyped, from another group) attributes nobody,
/// and the applicant's request goes on as any other.
async fn referrer_of(b: &Batch, input: &JoinRequestInput) -> Result<Option<MemberId>> {
    if input.referrer.is_some() {
        return Err(ServiceError::Unprocessable(
            "referrer is no longer accepted: send the referrer's referral_code \
             (POST /v1/groups/{group}/members/{member}/referral-code)"
                .into(),
        ));
    }
    let Some(code) = input.referral_code.as_deref() else {
        return Ok(None);
    };
    let gid = &b.group.id;
    let owner = match is_referral_code(code) {
        true => b.store.referral_code_owner(gid, code).await?,
        false => None,
    };
    let Some(owner) = owner.filter(|o| o != &input.member) else {
        tracing::info!(group = %gid, member = %input.member, "join names a referral code that attributes nobody");
        return Ok(None);
    };
    let active = b.store.get_member(gid, &owner).await?;
    Ok(active
        .filter(|m| m.status == MemberStatus::Active)
        .map(|m| m.id))
}

/// The pending member and the request a join makes.
fn new_request(
    b: &Batch,
    input: &JoinRequestInput,
    stored: Option<Member>,
    referrer: Option<MemberId>,
    operator: Option<Role>,
) -> (Member, JoinRequest) {
    let gid = &b.group.id;
    let display_name = input
        .display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| input.member.clone());
    let mut member = stored.unwrap_or_else(|| Member::new(gid, &input.member, &display_name));
    member.display_name = display_name.clone();
    member.status = MemberStatus::Pending;
    member.inviter = referrer.clone().or(member.inviter);
    if let Some(role) = operator {
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
    (member, request)
}
