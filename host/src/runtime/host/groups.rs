use super::*;
use crate::runtime::bindings::kith::plugin::groups::{GroupActivity, Host};
use crate::runtime::bindings::wit;
use crate::runtime::convert::group_to_wit;

impl HostState {
    async fn group_view(&mut self, g: Group) -> HostResult<wit::Group> {
        let counts = self.ctx.store.counts(&g.id).await?;
        let offset = utc_offset_minutes(&g.timezone, self.ctx.now);
        Ok(group_to_wit(g, offset, counts.active))
    }
}

/// The zone's offset at a time; an unknown zone counts as UTC (zones are
/// validated when a group is created, so this is only a safety net).
pub fn utc_offset_minutes(timezone: &str, at: Millis) -> i32 {
    use chrono::{Offset, TimeZone};
    let Ok(tz) = timezone.parse::<chrono_tz::Tz>() else {
        return 0;
    };
    let Some(utc) = chrono::DateTime::from_timestamp_millis(at) else {
        return 0;
    };
    tz.offset_from_utc_datetime(&utc.naive_utc())
        .fix()
        .local_minus_utc()
        / 60
}

impl Host for HostState {
    async fn current(&mut self) -> HostResult<wit::Group> {
        self.group_view(self.ctx.group.clone()).await
    }

    async fn counts(&mut self) -> HostResult<wit::GroupCounts> {
        Ok(self.ctx.store.counts(&self.ctx.group.id).await?.into())
    }

    async fn siblings(&mut self) -> HostResult<Vec<wit::Group>> {
        let mut out = vec![];
        for g in self.ctx.store.siblings(&self.ctx.group).await? {
            out.push(self.group_view(g).await?);
        }
        Ok(out)
    }

    async fn activity(&mut self, since: i64) -> HostResult<Vec<GroupActivity>> {
        self.require_or_trap(Capability::ReadMembers)?;
        let mut ids = vec![self.ctx.group.id.clone()];
        ids.extend(
            self.ctx
                .store
                .siblings(&self.ctx.group)
                .await?
                .into_iter()
                .map(|g| g.id),
        );
        let mut out = Vec::with_capacity(ids.len());
        for group in ids {
            let (messages, active_members) = self.ctx.store.activity(&group, since).await?;
            out.push(GroupActivity {
                group,
                messages,
                active_members,
            });
        }
        Ok(out)
    }
}
