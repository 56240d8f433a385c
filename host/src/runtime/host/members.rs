use super::*;
use crate::runtime::bindings::kith::plugin::members::{Host, MemberFilter};
use crate::runtime::bindings::wit;
use crate::store::MemberFilter as StoreFilter;

const MANAGEABLE: &[MemberStatus] = &[MemberStatus::Active];

impl HostState {
    /// Checks manage-members, that the member is in one of `allowed` states,
    /// and that a plugin is not acting on the group's owners and admins.
    async fn manageable(
        &mut self,
        id: &str,
        allowed: &[MemberStatus],
    ) -> HostResult<Result<Member, WitError>> {
        if let Err(e) = self.require(Capability::ManageMembers) {
            return Ok(Err(e));
        }
        self.member_in(id, allowed).await
    }

    async fn protected_op(&mut self, id: &str, effect: Effect) -> HostResult<Result<(), WitError>> {
        Ok(match self.manageable(id, MANAGEABLE).await? {
            Err(e) => Err(e),
            Ok(m) if m.role.is_privileged() => Err(err(
                ErrorCode::Denied,
                format!("member {id:?} is {}: plugins cannot act on them", m.role),
            )),
            Ok(_) => self.push(effect),
        })
    }
}

impl Host for HostState {
    async fn get(&mut self, id: String) -> HostResult<Option<wit::Member>> {
        self.require_or_trap(Capability::ReadMembers)?;
        Ok(self.member(&id).await?.map(Into::into))
    }

    async fn find(&mut self, filter: MemberFilter) -> HostResult<Vec<wit::Member>> {
        self.require_or_trap(Capability::ReadMembers)?;
        let wanted = StoreFilter {
            role: filter.role.map(Into::into),
            tag: filter.tag,
            status: filter.status.map(Into::into),
            inactive_since: filter.inactive_since,
            limit: filter.limit,
        };
        let store = &self.ctx.store;
        let group = &self.ctx.group.id;
        let mut members = if self.effects.is_empty() {
            store.list_members(group, &wanted).await?
        } else {
            // Buffered writes may move members into or out of the filter:
            // read wider, replay the buffer, then filter here.
            let stored = store
                .list_members(
                    group,
                    &StoreFilter {
                        limit: wanted.limit,
                        ..Default::default()
                    },
                )
                .await?;
            let touched = touched_members(&self.effects);
            let mut wide: Vec<Member> = Vec::with_capacity(stored.len());
            for m in stored.into_iter().filter(|m| !touched.contains(&m.id)) {
                wide.extend(resolve_member(
                    Some(m.clone()),
                    &m.id,
                    &self.effects,
                    self.ctx.now,
                ));
            }
            for id in &touched {
                let stored = store.get_member(group, id).await?;
                wide.extend(resolve_member(stored, id, &self.effects, self.ctx.now));
            }
            wide.sort_by(|a, b| {
                (a.joined_at.unwrap_or(0), &a.id).cmp(&(b.joined_at.unwrap_or(0), &b.id))
            });
            wide.retain(|m| {
                wanted.role.is_none_or(|r| m.role == r)
                    && wanted.status.is_none_or(|s| m.status == s)
                    && wanted.tag.as_ref().is_none_or(|t| m.tags.contains(t))
                    && wanted
                        .inactive_since
                        .is_none_or(|t| m.last_active_at.or(m.joined_at).unwrap_or(0) < t)
            });
            wide
        };
        let limit = if wanted.limit == 0 {
            crate::store::MAX_LIST
        } else {
            wanted.limit
        } as usize;
        members.truncate(limit);
        Ok(members.into_iter().map(Into::into).collect())
    }

    async fn set_role(&mut self, id: String, role: wit::Role) -> HostResult<Result<(), WitError>> {
        let role: Role = role.into();
        if role == Role::Owner || role == Role::Admin {
            return Ok(Err(err(
                ErrorCode::Denied,
                "only the operator appoints owners and admins",
            )));
        }
        self.protected_op(&id.clone(), Effect::SetRole { member: id, role })
            .await
    }

    async fn add_tag(&mut self, id: String, tag: String) -> HostResult<Result<(), WitError>> {
        self.tag(id, tag, true).await
    }

    async fn remove_tag(&mut self, id: String, tag: String) -> HostResult<Result<(), WitError>> {
        self.tag(id, tag, false).await
    }

    async fn approve(&mut self, id: String, reason: String) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self.manageable(&id, &[MemberStatus::Pending]).await? {
            return Ok(Err(e));
        }
        // Approving passes the plugin's own gate: a request another gate
        // holds (a quiz, a review) is not this plugin's to let in.
        let request = self
            .ctx
            .store
            .pending_join_request_seen(&self.ctx.group.id, &id, &self.effects)
            .await?;
        if let Some(holder) = request.and_then(|r| r.pending_plugin) {
            if holder != self.ctx.plugin {
                return Ok(Err(err(
                    ErrorCode::Denied,
                    format!("{id:?}'s join request waits on the gate {holder}"),
                )));
            }
        }
        // The group's capacity holds for plugin approvals too.
        let active = self.ctx.store.counts(&self.ctx.group.id).await?.active as usize;
        let approving = self
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::Approve { .. }))
            .count();
        let capacity = self.ctx.group.capacity as usize;
        if active + approving >= capacity {
            return Ok(Err(err(
                ErrorCode::Conflict,
                format!("the group is full ({capacity} members)"),
            )));
        }
        Ok(self.push(Effect::Approve { member: id, reason }))
    }

    async fn decline(&mut self, id: String, reason: String) -> HostResult<Result<(), WitError>> {
        Ok(
            match self.manageable(&id, &[MemberStatus::Pending]).await? {
                Err(e) => Err(e),
                Ok(_) => self.push(Effect::Decline { member: id, reason }),
            },
        )
    }

    async fn remove(&mut self, id: String, reason: String) -> HostResult<Result<(), WitError>> {
        self.protected_op(&id.clone(), Effect::Remove { member: id, reason })
            .await
    }

    async fn restrict(
        &mut self,
        id: String,
        until: i64,
        reason: String,
    ) -> HostResult<Result<(), WitError>> {
        self.protected_op(
            &id.clone(),
            Effect::Restrict {
                member: id,
                until,
                reason,
            },
        )
        .await
    }

    async fn set_paid(
        &mut self,
        id: String,
        tier: Option<String>,
        until: Option<i64>,
    ) -> HostResult<Result<(), WitError>> {
        let statuses = [MemberStatus::Pending, MemberStatus::Active];
        Ok(match self.manageable(&id, &statuses).await? {
            Err(e) => Err(e),
            Ok(_) => self.push(Effect::SetPaid {
                member: id,
                tier,
                until,
            }),
        })
    }

    async fn set_inviter(
        &mut self,
        id: String,
        inviter: String,
    ) -> HostResult<Result<(), WitError>> {
        if id == inviter {
            return Ok(Err(err(
                ErrorCode::Invalid,
                "a member cannot invite themselves",
            )));
        }
        let statuses = [MemberStatus::Pending, MemberStatus::Active];
        Ok(match self.manageable(&id, &statuses).await? {
            Err(e) => Err(e),
            Ok(_) => self.push(Effect::SetInviter {
                member: id,
                inviter,
            }),
        })
    }

    async fn award_points(
        &mut self,
        id: String,
        points: i64,
        reason: String,
    ) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self.require(Capability::AwardPoints) {
            return Ok(Err(e));
        }
        if let Err(e) = self
            .member_in(&id, &[MemberStatus::Active, MemberStatus::Pending])
            .await?
        {
            return Ok(Err(e));
        }
        let account = format!("member:{id}");
        let result = match points.cmp(&0) {
            std::cmp::Ordering::Equal => return Ok(Ok(())),
            std::cmp::Ordering::Greater => {
                self.transfer("issuer", &account, Asset::Points, points, reason)
                    .await?
            }
            std::cmp::Ordering::Less => {
                self.transfer(&account, "issuer", Asset::Points, -points, reason)
                    .await?
            }
        };
        Ok(result.map(|_| ()))
    }
}

impl HostState {
    async fn tag(
        &mut self,
        id: String,
        tag: String,
        add: bool,
    ) -> HostResult<Result<(), WitError>> {
        if tag.trim().is_empty() || tag.len() > 64 {
            return Ok(Err(err(ErrorCode::Invalid, "a tag is 1 to 64 bytes")));
        }
        let statuses = [MemberStatus::Pending, MemberStatus::Active];
        Ok(match self.manageable(&id, &statuses).await? {
            Err(e) => Err(e),
            Ok(_) if add => self.push(Effect::AddTag { member: id, tag }),
            Ok(_) => self.push(Effect::RemoveTag { member: id, tag }),
        })
    }
}

impl HostState {
    /// `active-since` (0.2.0): stored members active since `since`, as this
    /// event's earlier effects leave them (one removed by them is left out).
    pub(super) async fn active_members_since(
        &mut self,
        since: i64,
        after: Option<String>,
        limit: u32,
    ) -> HostResult<Vec<wit::Member>> {
        self.require_or_trap(Capability::ReadMembers)?;
        if after.as_deref().is_some_and(has_nul) {
            return Ok(vec![]);
        }
        let stored = self
            .ctx
            .store
            .active_members_since(&self.ctx.group.id, since, after.as_deref(), limit)
            .await?;
        Ok(stored
            .into_iter()
            .filter_map(|m| {
                let id = m.id.clone();
                resolve_member(Some(m), &id, &self.effects, self.ctx.now)
            })
            .filter(|m| m.status == MemberStatus::Active)
            .map(Into::into)
            .collect())
    }

    /// `referral-code` (0.2.1): the member's code, issued by this event when
    /// they have none yet (drawn from the event's seed, so a replay draws
    /// the same code). Only active members have one.
    pub(super) async fn referral_code(
        &mut self,
        id: String,
    ) -> HostResult<Result<String, WitError>> {
        self.require_or_trap(Capability::ReadMembers)?;
        if let Err(e) = self.member_in(&id, &[MemberStatus::Active]).await? {
            return Ok(Err(e));
        }
        let issued = self.effects.iter().find_map(|e| match e {
            Effect::IssueReferralCode { member, code } if *member == id => Some(code.clone()),
            _ => None,
        });
        if let Some(code) = issued {
            return Ok(Ok(code));
        }
        let gid = &self.ctx.group.id;
        if let Some(code) = self.ctx.store.referral_code_of(gid, &id).await? {
            return Ok(Ok(code));
        }
        let seed = crate::dispatch::seed_of(&[&self.ctx.event_id, "referral-code", &id]);
        let code = referral_code(seed);
        Ok(self
            .push(Effect::IssueReferralCode {
                member: id,
                code: code.clone(),
            })
            .map(|()| code))
    }
}
