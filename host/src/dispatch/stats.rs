//! What the console charts and the overview of all groups show: counts per
//! local day of a group, its funnel, and one line per group.

use super::*;
use crate::store::{Activity, FunnelCounts};
use chrono::{Datelike, NaiveDate, TimeZone};
use serde::Serialize;

/// Counting buckets are a quarter hour, so that every zone's midnight
/// (some are :30 or :45 off UTC) falls on a bucket boundary.
const BUCKET_MS: i64 = 15 * 60 * 1000;

/// The most days one stats call covers.
pub const MAX_STATS_DAYS: u32 = 366;

/// One local day of a group (in its time zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayStats {
    /// The day, `YYYY-MM-DD`, in the group's time zone.
    pub day: String,
    /// Active members at the end of the day: today's count, less the joins
    /// and plus the leaves recorded after that day (an estimate once
    /// retention has pruned old leave events).
    pub members: i64,
    /// Members who joined that day (and may have left since).
    pub joins: i64,
    /// Members who left or were removed that day (recorded events).
    pub leaves: i64,
    /// Members' messages sent that day; plugin posts are not counted.
    pub messages: i64,
    /// Check-ins: points awarded that day by a `daily-checkin` plugin.
    pub checkins: i64,
}

/// The funnel of a group's members, now: each stage is a count of active
/// members; `active`, `paid` and `vip` are each a subset of `joined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// Active members.
    pub joined: i64,
    /// Of them, those who spoke or reacted within the period.
    pub active: i64,
    /// Of them, those with a paid tier that has not run out.
    pub paid: i64,
    /// Of them, VIPs: the `vip` role, the `vip` tag or a paid tier `vip`.
    pub vip: i64,
}

/// A group's activity per day over a period, and its funnel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupStats {
    /// The group.
    pub group: GroupId,
    /// Its IANA time zone: days are its local days.
    pub timezone: String,
    /// Oldest first; the last is today (so far).
    pub days: Vec<DayStats>,
    /// The funnel; "active" means within these days.
    pub funnel: Funnel,
}

/// One group at a glance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupSummary {
    /// The group.
    #[serde(flatten)]
    pub group: Group,
    /// Active members now.
    pub members: u32,
    /// Members who joined in the last 7 local days (today included).
    pub joins_week: i64,
    /// Members who left or were removed in the last 7 local days.
    pub leaves_week: i64,
    /// Members' messages per day, averaged over the last 7 local days.
    pub messages_per_day: f64,
    /// Enabled plugins in run order, switched-off ones included.
    pub plugins: Vec<String>,
    /// Plugins whose latest invocation failed (`consecutive_failures > 0`).
    pub failing: Vec<String>,
    /// Plugins the host switched off (`disabled_reason` set).
    pub disabled: Vec<String>,
}

/// The local days ending today in a zone, with the UTC start of the first
/// and the end (start of tomorrow).
fn local_days(tz: chrono_tz::Tz, now: Millis, days: u32) -> (Vec<NaiveDate>, Millis, Millis) {
    let today = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    let first = today - chrono::Days::new(u64::from(days.max(1) - 1));
    let list: Vec<NaiveDate> = first.iter_days().take(days.max(1) as usize).collect();
    let end = midnight(tz, today + chrono::Days::new(1));
    (list, midnight(tz, first), end)
}

/// The UTC instant a local day starts (the earliest, on a DST change).
fn midnight(tz: chrono_tz::Tz, day: NaiveDate) -> Millis {
    let naive = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&naive)
        .earliest()
        // A zone that skips midnight starts the day an hour later.
        .or_else(|| {
            tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| naive.and_utc().timestamp_millis())
}

impl Kith {
    /// Per-day counts of a local day range: `(day index, count)` summed.
    async fn per_day(
        &self,
        group: &Group,
        what: Activity,
        days: &[NaiveDate],
        start: Millis,
        end: Millis,
    ) -> Result<Vec<i64>> {
        let tz: chrono_tz::Tz = group.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
        let buckets = self
            .store
            .activity_buckets(&group.id, what, start, end, BUCKET_MS)
            .await?;
        let mut counts = vec![0; days.len()];
        let first = days.first().map(|d| d.num_days_from_ce()).unwrap_or(0);
        for (bucket, n) in buckets {
            let at = start + bucket * BUCKET_MS;
            let Some(local) = chrono::DateTime::from_timestamp_millis(at) else {
                continue;
            };
            let index = local.with_timezone(&tz).date_naive().num_days_from_ce() - first;
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i)) {
                *slot += n;
            }
        }
        Ok(counts)
    }

    /// A group's activity per local day over the last `days` days (1-366),
    /// and its funnel.
    ///
    /// # Errors
    /// `NotFound` for an unknown group; `Invalid` for `days` out of range.
    pub async fn group_stats(&self, id: &str, days: u32) -> Result<GroupStats> {
        if !(1..=MAX_STATS_DAYS).contains(&days) {
            return Err(ServiceError::Invalid(format!(
                "days must be 1-{MAX_STATS_DAYS}, got {days}"
            )));
        }
        let group = self.store.get_group(id).await?;
        let tz: chrono_tz::Tz = group.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
        let now = self.clock.now();
        let (list, start, end) = local_days(tz, now, days);
        let mut per = vec![];
        for what in [
            Activity::Joins,
            Activity::Leaves,
            Activity::Messages,
            Activity::CheckIns,
        ] {
            per.push(self.per_day(&group, what, &list, start, end).await?);
        }
        let members_now = i64::from(self.store.counts(id).await?.active);
        let days = day_rows(&list, &per, members_now);
        let FunnelCounts {
            joined,
            active,
            paid,
            vip,
        } = self.store.funnel(id, start, now).await?;
        Ok(GroupStats {
            group: group.id,
            timezone: group.timezone,
            days,
            funnel: Funnel {
                joined,
                active,
                paid,
                vip,
            },
        })
    }

    /// Every group the filter lets through, at a glance.
    ///
    /// # Errors
    /// Only store failures.
    pub async fn groups_overview(
        &self,
        visible: impl Fn(&str) -> bool,
    ) -> Result<Vec<GroupSummary>> {
        let groups = self.store.list_groups(None).await?;
        let mut out = vec![];
        for group in groups.into_iter().filter(|g| visible(&g.id)) {
            out.push(self.summary(group).await?);
        }
        Ok(out)
    }

    async fn summary(&self, group: Group) -> Result<GroupSummary> {
        let tz: chrono_tz::Tz = group.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
        let (list, start, end) = local_days(tz, self.clock.now(), 7);
        let sum = |v: Vec<i64>| v.iter().sum::<i64>();
        let joins_week = sum(self
            .per_day(&group, Activity::Joins, &list, start, end)
            .await?);
        let leaves_week = sum(self
            .per_day(&group, Activity::Leaves, &list, start, end)
            .await?);
        let messages = sum(self
            .per_day(&group, Activity::Messages, &list, start, end)
            .await?);
        let members = self.store.counts(&group.id).await?.active;
        let enablements = self.store.enablements(&group.id).await?;
        let names = |keep: &dyn Fn(&crate::store::Enablement) -> bool| -> Vec<String> {
            enablements
                .iter()
                .filter(|e| keep(e))
                .map(|e| e.plugin.clone())
                .collect()
        };
        Ok(GroupSummary {
            members,
            joins_week,
            leaves_week,
            messages_per_day: messages as f64 / 7.0,
            plugins: names(&|_| true),
            failing: names(&|e| e.consecutive_failures > 0 && e.disabled_reason.is_none()),
            disabled: names(&|e| e.disabled_reason.is_some()),
            group,
        })
    }
}

/// The day rows, members counted back from today's.
fn day_rows(list: &[NaiveDate], per: &[Vec<i64>], members_now: i64) -> Vec<DayStats> {
    let (joins, leaves, messages, checkins) = (&per[0], &per[1], &per[2], &per[3]);
    let mut members = members_now;
    let mut rows: Vec<DayStats> = (0..list.len())
        .rev()
        .map(|i| {
            let row = DayStats {
                day: list[i].format("%Y-%m-%d").to_string(),
                members: members.max(0),
                joins: joins[i],
                leaves: leaves[i],
                messages: messages[i],
                checkins: checkins[i],
            };
            // The day before ended without this day's joins, with its leaves.
            members = members - joins[i] + leaves[i];
            row
        })
        .collect();
    rows.reverse();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_start_at_the_zones_midnight() {
        // 2026-12-08 01:00 UTC is 06:30 in Kolkata (+5:30).
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T01:00:00Z")
            .unwrap()
            .timestamp_millis();
        let tz: chrono_tz::Tz = "Asia/Kolkata".parse().unwrap();
        let (days, start, end) = local_days(tz, now, 2);
        let names: Vec<String> = days.iter().map(|d| d.to_string()).collect();
        assert_eq!(names, ["2026-12-07", "2026-12-08"]);
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(start, at("2026-12-06T18:30:00Z"));
        assert_eq!(end, at("2026-12-08T18:30:00Z"));
        assert_eq!(start % BUCKET_MS, 0, "midnight is on a bucket boundary");
    }

    #[test]
    fn members_are_counted_back_from_today() {
        let days: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .iter_days()
            .take(3)
            .collect();
        // Joins 1, 0, 2; leaves 0, 1, 0; five members today.
        let per = [vec![1, 0, 2], vec![0, 1, 0], vec![0; 3], vec![0; 3]];
        let rows = day_rows(&days, &per, 5);
        let members: Vec<i64> = rows.iter().map(|r| r.members).collect();
        assert_eq!(members, [4, 3, 5]);
        assert_eq!(rows[0].day, "2026-12-01");
    }
}
