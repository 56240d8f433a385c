//! Groups and members as the operator manages them.

use super::*;
use serde::Deserialize;

/// A group as an operator creates or updates it; absent fields keep their
/// defaults (create) or current values (update).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// Group id; generated when absent on create. On update it must equal the path id.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: Option<String>,
    /// 1-200 bytes. Required on create.
    pub name: Option<String>,
    pub positioning: Option<String>,
    pub category: Option<String>,
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

    pub async fn update_group(&self, id: &str, input: GroupInput) -> Result<Group> {
        if input.id.as_deref().is_some_and(|new| new != id) {
            return Err(ServiceError::Invalid("a group's id cannot change".into()));
        }
        let mut group = self.store.get_group(id).await?;
        input.apply(&mut group)?;
        if let Some(parent) = &group.parent {
            self.store.get_group(parent).await.map_err(|_| {
                ServiceError::Invalid(format!("parent group {parent:?} does not exist"))
            })?;
        }
        let mut tx = self.store.begin().await?;
        tx.update_group(&group).await?;
        tx.commit().await?;
        Ok(group)
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
                referrer: None,
                answer: None,
                payload: None,
            }),
        };
        self.process_with(event, event::Mode::OperatorAdd(role))
            .await
    }

    /// Sets a member's role (the operator's call, so owners and admins too).
    pub async fn set_role(&self, group: &str, id: &str, role: Role) -> Result<Member> {
        let _guard = self.group_lock(group).lock_owned().await;
        let mut tx = self.store.begin().await?;
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
        tx.commit().await?;
        Ok(self
            .store
            .get_member(group, id)
            .await?
            .expect("just written"))
    }

    pub async fn set_tag(&self, group: &str, id: &str, tag: &str, present: bool) -> Result<Member> {
        if tag.trim().is_empty() || tag.len() > 64 {
            return Err(ServiceError::Invalid("a tag is 1 to 64 bytes".into()));
        }
        let _guard = self.group_lock(group).lock_owned().await;
        self.store
            .get_member(group, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("member {id:?}")))?;
        let mut tx = self.store.begin().await?;
        tx.set_tag(group, id, tag, present).await?;
        tx.commit().await?;
        Ok(self.store.get_member(group, id).await?.expect("exists"))
    }
}
