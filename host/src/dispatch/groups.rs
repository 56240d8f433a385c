//! Groups and members as the operator manages them.

use super::*;
use serde::{Deserialize, Serialize};

/// A group as an operator creates or updates it; absent fields keep their
/// defaults (create) or current values (update).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// Group id; generated when absent on create. On update it must equal the path id.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: Option<String>,
    /// 1-200 bytes. Required on create.
    pub name: Option<String>,
    /// Vertical topic, e.g. "photography".
    pub positioning: Option<String>,
    /// Kind of group, e.g. "region", "interest", "industry", "organisation".
    pub category: Option<String>,
    /// Region the group serves.
    pub region: Option<String>,
    /// 1-100000; defaults to 350.
    pub capacity: Option<u32>,
    /// An existing group's id; not the group itself.
    pub parent: Option<String>,
    /// IANA time zone name; defaults to UTC.
    pub timezone: Option<String>,
    /// Operator-defined settings; defaults to {}.
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
}

fn validate_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "{what} {id:?} must be 1-64 letters, digits, '-', '_' or '.'"
        )))
    }
}

pub(crate) fn validate_member_id(id: &str) -> Result<()> {
    if id.trim().is_empty() || id.len() > 128 {
        return Err(ServiceError::Invalid(format!(
            "member id {id:?} must be 1-128 bytes"
        )));
    }
    Ok(())
}

impl GroupInput {
    fn apply(self, g: &mut Group) -> Result<()> {
        if let Some(name) = self.name {
            if name.trim().is_empty() || name.len() > 200 {
                return Err(ServiceError::Invalid("name must be 1-200 bytes".into()));
            }
            g.name = name;
        }
        if let Some(v) = self.positioning {
            g.positioning = v;
        }
        if let Some(v) = self.category {
            g.category = v;
        }
        if let Some(v) = self.region {
            g.region = Some(v);
        }
        if let Some(c) = self.capacity {
            if !(1..=100_000).contains(&c) {
                return Err(ServiceError::Invalid(format!(
                    "capacity must be 1-100000, got {c}"
                )));
            }
            g.capacity = c;
        }
        if let Some(p) = self.parent {
            if p == g.id {
                return Err(ServiceError::Invalid(
                    "a group cannot be its own parent".into(),
                ));
            }
            g.parent = Some(p);
        }
        if let Some(tz) = self.timezone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                return Err(ServiceError::Invalid(format!(
                    "unknown time zone {tz:?}; use an IANA name like Asia/Shanghai"
                )));
            }
            g.timezone = tz;
        }
        if let Some(s) = self.settings {
            if !s.is_object() {
                return Err(ServiceError::Invalid(
                    "settings must be a JSON object".into(),
                ));
            }
            g.settings = s;
        }
        Ok(())
    }
}

impl Kith {
    /// Creates a group from the input; absent fields take their defaults.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Invalid`] for a missing name, a field out of range or
    /// an unknown parent; [`ServiceError::Conflict`] if the id is taken.
    pub async fn create_group(&self, input: GroupInput) -> Result<Group> {
        let id = match &input.id {
            Some(id) => id.clone(),
            None => format!("g-{}", uuid::Uuid::now_v7().simple()),
        };
        validate_id("group id", &id)?;
        if input.name.is_none() {
            return Err(ServiceError::Invalid("name is required".into()));
        }
        let mut group = Group {
            id,
            name: String::new(),
            positioning: String::new(),
            category: String::new(),
            region: None,
            capacity: DEFAULT_CAPACITY,
            parent: None,
            timezone: "UTC".into(),
            settings: serde_json::json!({}),
            created_at: self.clock.now(),
            archived_at: None,
        };
        input.apply(&mut group)?;
        if let Some(parent) = &group.parent {
            self.store.get_group(parent).await.map_err(|_| {
                ServiceError::Invalid(format!("parent group {parent:?} does not exist"))
            })?;
        }
        let mut tx = self.store.begin().await?;
        tx.insert_group(&group).await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Changes a group's settings; what `input` leaves out stays.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NotFound`] for an unknown group; [`ServiceError::Invalid`]
    /// for a changed id, a field out of range or an unknown parent;
    /// [`ServiceError::Conflict`] for an archived group.
    pub async fn update_group(&self, actor: &Actor, id: &str, input: GroupInput) -> Result<Group> {
        if input.id.as_deref().is_some_and(|new| new != id) {
            return Err(ServiceError::Invalid("a group's id cannot change".into()));
        }
        let mut turn = self.group_turn(id).await?;
        let mut group = writable(self.store.uncached().get_group(id).await?)?;
        let mut detail = serde_json::to_value(&input).expect("plain data");
        if let Some(fields) = detail.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
        }
        input.apply(&mut group)?;
        if let Some(parent) = &group.parent {
            self.store.get_group(parent).await.map_err(|_| {
                ServiceError::Invalid(format!("parent group {parent:?} does not exist"))
            })?;
        }
        let mut tx = turn.begin(&self.store).await?;
        tx.update_group(&group).await?;
        tx.audit(id, actor, "group.update", id, &detail, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// The group, unless it is archived (read-only).
    ///
    /// # Errors
    /// `NotFound`, or `Conflict` for an archived group.
    pub(crate) async fn writable_group(&self, id: &str) -> Result<Group> {
        writable(self.store.get_group(id).await?)
    }

    /// Archives a group (read-only: events refused, plugins and timers
    /// stopped, data kept), or brings it back.
    ///
    /// # Errors
    /// `NotFound` for an unknown group.
    pub async fn archive_group(&self, actor: &Actor, id: &str, archive: bool) -> Result<Group> {
        let mut turn = self.group_turn(id).await?;
        let mut group = self.store.get_group(id).await?;
        if group.archived_at.is_some() == archive {
            return Ok(group);
        }
        let now = self.clock.now();
        group.archived_at = archive.then_some(now);
        let action = if archive {
            "group.archive"
        } else {
            "group.unarchive"
        };
        let mut tx = turn.begin(&self.store).await?;
        tx.set_archived(id, group.archived_at).await?;
        tx.audit(id, actor, action, id, &serde_json::json!({}), now)
            .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Deletes a group and everything kept about it (members, messages,
    /// ledger, plugin data, events, audit log).
    ///
    /// # Errors
    /// `NotFound`, or `Conflict` while other groups have it as their parent.
    pub async fn delete_group(&self, id: &str) -> Result<()> {
        let mut turn = self.group_turn(id).await?;
        let mut tx = turn.begin(&self.store).await?;
        tx.delete_group(id).await?;
        tx.commit().await?;
        tracing::info!(group = %id, "group deleted with its data");
        Ok(())
    }

    /// The operator adds a member directly (seeding owners, admins, existing
    /// members): no gate runs, but games and flows see the join.
    pub async fn add_member(
        &self,
        group: &str,
        id: &str,
        display_name: Option<String>,
        role: Role,
    ) -> Result<EventOutcome> {
        validate_member_id(id)?;
        self.store.get_group(group).await?;
        let event = IncomingEvent {
            id: format!("add:{group}:{id}:{}", uuid::Uuid::now_v7().simple()),
            group: group.to_string(),
            at: None,
            body: EventBody::JoinRequested(JoinRequestInput {
                member: id.to_string(),
                display_name,
                invite_code: None,
                referral_code: None,
                referrer: None,
                answer: None,
                payload: None,
            }),
        };
        self.process_with(event, event::Mode::OperatorAdd(role))
            .await
    }

    /// The operator removes an active member: the adapter gets a `remove`
    /// action, games and flows see the departure, the audit log the removal.
    ///
    /// # Errors
    /// `NotFound`, `Unprocessable` for a member who is not active,
    /// `Conflict` for an archived group.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        group: &str,
        id: &str,
        reason: String,
    ) -> Result<EventOutcome> {
        let event = IncomingEvent {
            id: format!("remove:{group}:{id}:{}", uuid::Uuid::now_v7().simple()),
            group: group.to_string(),
            at: None,
            body: EventBody::MemberLeft {
                member: id.to_string(),
            },
        };
        let detail = serde_json::json!({ "reason": reason });
        let mode = event::Mode::OperatorRemove {
            member: id.to_string(),
            reason,
        };
        let outcome = self.process_with(event, mode).await?;
        self.record_audit(actor, group, "member.remove", id, &detail)
            .await?;
        Ok(outcome)
    }

    /// Sets a member's role (the operator's call, so owners and admins too).
    pub async fn set_role(
        &self,
        actor: &Actor,
        group: &str,
        id: &str,
        role: Role,
    ) -> Result<Member> {
        self.writable_group(group).await?;
        let mut turn = self.group_turn(group).await?;
        let mut tx = turn.begin(&self.store).await?;
        let mut member = tx
            .get_member_row(group, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("member {id:?}")))?;
        let changed = member.role != role;
        member.role = role;
        tx.upsert_member(&member).await?;
        if changed {
            super::apply::push_role(&mut tx, group, id, role, None, self.clock.now()).await?;
        }
        let detail = serde_json::json!({"role": role});
        tx.audit(group, actor, "member.role", id, &detail, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(self
            .store
            .get_member(group, id)
            .await?
            .expect("just written"))
    }

    /// Lifts a member's removal: they become `left`, keeping their history,
    /// and a new join request goes to the gates again.
    ///
    /// # Errors
    /// `NotFound` for an unknown member, `Conflict` when they are not removed.
    pub async fn lift_removal(&self, group: &str, id: &str) -> Result<Member> {
        let mut turn = self.group_turn(group).await?;
        let mut tx = turn.begin(&self.store).await?;
        let mut member = tx
            .get_member_row(group, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("member {id:?}")))?;
        if member.status != MemberStatus::Removed {
            return Err(ServiceError::Conflict(format!(
                "member {id:?} is {}, not removed",
                member.status
            )));
        }
        member.status = MemberStatus::Left;
        tx.upsert_member(&member).await?;
        tx.commit().await?;
        Ok(self
            .store
            .get_member(group, id)
            .await?
            .expect("just written"))
    }

    /// Adds (`present`) or removes a tag on a member, as an operator; returns
    /// the member as stored.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Invalid`] if the tag is empty or longer than 64 bytes,
    /// [`ServiceError::NotFound`] for an unknown member.
    pub async fn set_tag(
        &self,
        actor: &Actor,
        group: &str,
        id: &str,
        tag: &str,
        present: bool,
    ) -> Result<Member> {
        if tag.trim().is_empty() || tag.len() > 64 {
            return Err(ServiceError::Invalid("a tag is 1 to 64 bytes".into()));
        }
        self.writable_group(group).await?;
        let mut turn = self.group_turn(group).await?;
        self.store
            .get_member(group, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("member {id:?}")))?;
        let mut tx = turn.begin(&self.store).await?;
        tx.set_tag(group, id, tag, present).await?;
        let action = if present {
            "member.tag"
        } else {
            "member.untag"
        };
        let detail = serde_json::json!({"tag": tag});
        tx.audit(group, actor, action, id, &detail, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(self.store.get_member(group, id).await?.expect("exists"))
    }
}

/// `group`, unless it is archived: an archived group takes no events and no
/// changes until it is brought back.
///
/// # Errors
/// `Conflict` for an archived group.
pub(crate) fn writable(group: Group) -> Result<Group> {
    if group.archived_at.is_some() {
        return Err(ServiceError::Conflict(format!(
            "group {:?} is archived (read-only); unarchive it first",
            group.id
        )));
    }
    Ok(group)
}
