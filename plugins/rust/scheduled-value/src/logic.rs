//! Host-independent rules of the scheduled value output (weekly lecture,
//! monthly lottery), unit-tested natively: local calendar maths and the draw.

use kith_plugin_util::SplitMix64;
use kith_plugin_util::{Clock, Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
pub const WEEK_MS: i64 = 7 * DAY_MS;
pub const ANNOUNCE: &str = "lecture-announce";
pub const REMIND: &str = "lecture-reminder";
pub const LOTTERY: &str = "lottery";
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// Everything the game says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "announcement",
        "本周讲座：《{title}》，{time}（{weekday}）开讲，欢迎准时参加！",
        "This week's lecture: {title} at {weekday} {clock}",
    ),
    Text::new(
        "reminder",
        "提醒：《{title}》将在 {minutes} 分钟后开讲（{time}）。",
        "Reminder: {title} starts in {minutes} minutes ({weekday} {clock}).",
    ),
    Text::new(
        "lottery_none",
        "🎁 本月抽奖：这次没有活跃成员参与。",
        "🎁 Monthly lottery: no active members this time.",
    ),
    Text::new(
        "lottery_winners",
        "🎁 本月抽奖中奖名单：{winners}，每人获得 {points} 积分！",
        "🎁 Monthly lottery winners: {winners} — {points} points each!",
    ),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lecture {
    /// 0 = Monday … 6 = Sunday, in the group's time zone.
    pub weekday: u8,
    pub hour: u8,
    #[serde(default)]
    pub minute: u8,
    pub title: String,
    #[serde(default = "default_remind")]
    pub remind_minutes_before: u32,
    #[serde(default = "default_announce")]
    pub announce_hours_before: u32,
}

fn default_remind() -> u32 {
    60
}

fn default_announce() -> u32 {
    48
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lottery {
    /// 1-28, so that every month has the day.
    pub day_of_month: u8,
    pub hour: u8,
    pub prize_points: i64,
    #[serde(default = "default_active_days")]
    pub active_days: u32,
    #[serde(default = "default_winners")]
    pub winners: u32,
}

fn default_active_days() -> u32 {
    30
}

fn default_winners() -> u32 {
    1
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub lecture: Option<Lecture>,
    pub lottery: Option<Lottery>,
    pub language: Language,
    pub texts: Overrides,
}

impl Config {
    /// The plugin's messages in the configured language.
    pub fn texts(&self) -> Texts<'_> {
        Texts::new(TEXTS, self.language, &self.texts)
    }
}

impl Config {
    pub fn validate(self) -> Result<Self, String> {
        kith_plugin_util::check_overrides(TEXTS, &self.texts)?;
        if let Some(l) = &self.lecture {
            if l.weekday > 6 || l.hour > 23 || l.minute > 59 {
                return Err("config: lecture weekday must be 0-6, hour 0-23, minute 0-59".into());
            }
            if l.title.trim().is_empty() {
                return Err("config: lecture title must not be empty".into());
            }
            if l.remind_minutes_before >= 7 * 24 * 60 || l.announce_hours_before >= 7 * 24 {
                return Err("config: reminders must be less than a week before the lecture".into());
            }
        }
        if let Some(l) = &self.lottery {
            if !(1..=28).contains(&l.day_of_month) || l.hour > 23 {
                return Err("config: lottery day_of_month must be 1-28, hour 0-23".into());
            }
            if l.prize_points <= 0 || l.active_days == 0 || l.winners == 0 {
                return Err(
                    "config: lottery prize_points, active_days and winners must be positive".into(),
                );
            }
        }
        Ok(self)
    }
}

pub fn config_schema() -> String {
    let hour = json!({"type": "integer", "minimum": 0, "maximum": 23});
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "lecture",
            "Weekly lecture: announced announce_hours_before (default 48) and reminded remind_minutes_before (default 60) its start; null for none.",
            json!({"type": ["object", "null"], "additionalProperties": false,
                   "required": ["weekday", "hour", "title"],
                   "properties": {
                       "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday … 6 = Sunday"},
                       "hour": hour.clone(),
                       "minute": {"type": "integer", "minimum": 0, "maximum": 59, "default": 0},
                       "title": {"type": "string", "minLength": 1},
                       "remind_minutes_before": {"type": "integer", "minimum": 0, "maximum": 10079, "default": 60},
                       "announce_hours_before": {"type": "integer", "minimum": 0, "maximum": 167, "default": 48}}}),
        ),
        (
            "lottery",
            "Monthly lottery among members who spoke in the last active_days (default 30); null for none.",
            json!({"type": ["object", "null"], "additionalProperties": false,
                   "required": ["day_of_month", "hour", "prize_points"],
                   "properties": {
                       "day_of_month": {"type": "integer", "minimum": 1, "maximum": 28},
                       "hour": hour,
                       "prize_points": {"type": "integer", "minimum": 1},
                       "active_days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
                       "winners": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1}}}),
        ),
    ], TEXTS)
}

fn local(now: i64, offset_minutes: i32) -> (i64, i64) {
    let offset = i64::from(offset_minutes) * MINUTE_MS;
    (now + offset, offset)
}

/// Monday = 0; 1970-01-01 was a Thursday.
pub fn weekday_of_day(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// Minutes since local Monday 00:00 of the lecture, minus `before` minutes,
/// wrapped into the week.
pub fn minute_of_week(l: &Lecture, before_minutes: i64) -> i64 {
    let m = i64::from(l.weekday) * 1440 + i64::from(l.hour) * 60 + i64::from(l.minute);
    (m - before_minutes).rem_euclid(7 * 1440)
}

/// Unix ms of the next local `minute_of_week`, strictly after `now`.
pub fn next_weekly(now: i64, offset_minutes: i32, minute_of_week: i64) -> i64 {
    let (local, offset) = local(now, offset_minutes);
    let day = local.div_euclid(DAY_MS);
    let monday = (day - weekday_of_day(day)) * DAY_MS;
    let mut at = monday + minute_of_week * MINUTE_MS;
    while at <= local {
        at += WEEK_MS;
    }
    at - offset
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix ms of the next local `day`-of-month at `hour`:00, strictly after `now`.
pub fn next_monthly(now: i64, offset_minutes: i32, day: u8, hour: u8) -> i64 {
    let (local, offset) = local(now, offset_minutes);
    let (mut y, mut m, _) = civil_from_days(local.div_euclid(DAY_MS));
    loop {
        let at = days_from_civil(y, m, u32::from(day)) * DAY_MS + i64::from(hour) * HOUR_MS;
        if at > local {
            return at - offset;
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
}

/// The weekday, local time of day and local date and time of the lecture
/// starting at `start` (Unix ms), as the messages show them.
fn lecture_when(t: &Texts, clock: &Clock, l: &Lecture, start: i64) -> (String, String, String) {
    let day = usize::from(l.weekday % 7);
    let weekday = match t.language() {
        Language::ZhCn => WEEKDAYS_ZH[day],
        Language::En => WEEKDAYS[day],
    };
    (
        weekday.to_string(),
        format!("{:02}:{:02}", l.hour, l.minute),
        clock.format_local(start, t.language()),
    )
}

/// The announcement (`key` "announcement") or reminder ("reminder") of the
/// lecture starting at `start`.
pub fn lecture_message(t: &Texts, key: &str, clock: &Clock, l: &Lecture, start: i64) -> String {
    let (weekday, at, time) = lecture_when(t, clock, l, start);
    t.render(
        key,
        &[
            ("title", &l.title),
            ("minutes", &l.remind_minutes_before),
            ("weekday", &weekday),
            ("clock", &at),
            ("time", &time),
        ],
    )
}

/// `count` distinct candidates, chosen by a partial Fisher–Yates shuffle
/// driven by `seed`; candidates are sorted first so the draw depends only on
/// who is eligible, not on the order the host listed them in.
pub fn pick(mut candidates: Vec<String>, count: u32, seed: u64) -> Vec<String> {
    candidates.sort();
    candidates.dedup();
    let mut rng = SplitMix64::new(seed);
    let n = candidates.len();
    let k = (count as usize).min(n);
    for i in 0..k {
        let span = (n - i) as u128;
        let j = i + ((u128::from(rng.next_u64()) * span) >> 64) as usize;
        candidates.swap(i, j);
    }
    candidates.truncate(k);
    candidates
}

pub fn winners_message(t: &Texts, names: &[String], prize: i64) -> String {
    if names.is_empty() {
        return t.render("lottery_none", &[]);
    }
    let list: Vec<String> = names.iter().map(|n| format!("@{n}")).collect();
    let sep = match t.language() {
        Language::ZhCn => "、",
        Language::En => ", ",
    };
    t.render(
        "lottery_winners",
        &[("winners", &list.join(sep)), ("points", &prize)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-01 00:30 in Shanghai, a Sunday.
    const START: i64 = 1_772_296_200_000;
    const MIDNIGHT: i64 = START - 30 * MINUTE_MS;

    fn lecture() -> Lecture {
        Lecture {
            weekday: 2,
            hour: 20,
            minute: 0,
            title: "Growth".into(),
            remind_minutes_before: 60,
            announce_hours_before: 48,
        }
    }

    #[test]
    fn weekly_times_are_local() {
        assert_eq!(
            weekday_of_day((MIDNIGHT + 8 * HOUR_MS) / DAY_MS),
            6,
            "2026-03-01 is a Sunday"
        );
        let l = lecture();
        assert_eq!(
            next_weekly(START, 480, minute_of_week(&l, 0)),
            MIDNIGHT + 3 * DAY_MS + 20 * HOUR_MS
        );
        assert_eq!(
            next_weekly(START, 480, minute_of_week(&l, 60)),
            MIDNIGHT + 3 * DAY_MS + 19 * HOUR_MS
        );
        assert_eq!(
            next_weekly(START, 480, minute_of_week(&l, 48 * 60)),
            MIDNIGHT + DAY_MS + 20 * HOUR_MS
        );
        // Exactly at the time: the next week's.
        let at = MIDNIGHT + 3 * DAY_MS + 20 * HOUR_MS;
        assert_eq!(next_weekly(at, 480, minute_of_week(&l, 0)), at + WEEK_MS);
        // Monday 01:00 minus 2 h wraps to Sunday 23:00.
        let early = Lecture {
            weekday: 0,
            hour: 1,
            ..lecture()
        };
        assert_eq!(minute_of_week(&early, 120), 6 * 1440 + 23 * 60);
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(MIDNIGHT.div_euclid(DAY_MS) + 1),
            (2026, 3, 1)
        );
        for z in [-800_000, -1, 0, 19_723, 20_513, 100_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn monthly_times_are_local_and_roll_over_years() {
        assert_eq!(
            next_monthly(START, 480, 15, 10),
            MIDNIGHT + 14 * DAY_MS + 10 * HOUR_MS
        );
        // The 1st at 00:00 has just passed: April's.
        assert_eq!(next_monthly(START, 480, 1, 0), MIDNIGHT + 31 * DAY_MS);
        let dec20 = days_from_civil(2026, 12, 20) * DAY_MS;
        assert_eq!(
            next_monthly(dec20, 0, 5, 8),
            days_from_civil(2027, 1, 5) * DAY_MS + 8 * HOUR_MS
        );
    }

    #[test]
    fn picks_are_distinct_deterministic_and_spread() {
        let c: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
        let a = pick(c.clone(), 3, 7);
        assert_eq!(a.len(), 3);
        assert_eq!(a, pick(c.iter().rev().cloned().collect(), 3, 7));
        let mut sorted = a.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 3);
        assert_eq!(pick(c.clone(), 50, 1).len(), 10);
        assert!(pick(vec![], 2, 1).is_empty());
        let mut wins = [0u32; 10];
        for seed in 0..5000 {
            let w = &pick(c.clone(), 1, seed)[0];
            wins[w[1..].parse::<usize>().unwrap()] += 1;
        }
        assert!(wins.iter().all(|w| (400..600).contains(w)), "{wins:?}");
    }

    #[test]
    fn config_schema_and_texts() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        for (k, p) in v["properties"].as_object().unwrap() {
            assert!(
                p.get("default").is_some() && p["description"].is_string(),
                "{k}"
            );
        }
        let c: Config = kith_plugin_util::parse_config(
            r#"{"lecture": {"weekday": 2, "hour": 20, "title": "Growth"}, "lottery": {"day_of_month": 15, "hour": 10, "prize_points": 50}}"#,
        )
        .unwrap();
        let c = c.validate().unwrap();
        assert_eq!(c.lecture.as_ref().unwrap().remind_minutes_before, 60);
        assert_eq!(c.lottery.as_ref().unwrap().active_days, 30);
        let shanghai = Clock {
            utc_offset_minutes: 480,
            timezone: "Asia/Shanghai".into(),
        };
        // Wednesday 2026-03-04 20:00 in Shanghai.
        let start = MIDNIGHT + 3 * DAY_MS + 20 * 60 * MINUTE_MS;
        let zh = c.texts();
        assert_eq!(
            lecture_message(&zh, "announcement", &shanghai, &lecture(), start),
            "本周讲座：《Growth》，2026年3月4日 20:00（周三）开讲，欢迎准时参加！"
        );
        assert_eq!(
            lecture_message(&zh, "reminder", &shanghai, &lecture(), start),
            "提醒：《Growth》将在 60 分钟后开讲（2026年3月4日 20:00）。"
        );
        assert_eq!(
            winners_message(&zh, &["Amy".into(), "Bob".into()], 50),
            "🎁 本月抽奖中奖名单：@Amy、@Bob，每人获得 50 积分！"
        );
        let en = Config {
            language: Language::En,
            ..c.clone()
        };
        let t = en.texts();
        assert_eq!(
            lecture_message(&t, "announcement", &shanghai, &lecture(), start),
            "This week's lecture: Growth at Wednesday 20:00"
        );
        assert_eq!(
            lecture_message(&t, "reminder", &shanghai, &lecture(), start),
            "Reminder: Growth starts in 60 minutes (Wednesday 20:00)."
        );
        assert_eq!(
            winners_message(&t, &["Amy".into(), "Bob".into()], 50),
            "🎁 Monthly lottery winners: @Amy, @Bob — 50 points each!"
        );
        let bad: Config = kith_plugin_util::parse_config(
            r#"{"lottery": {"day_of_month": 29, "hour": 1, "prize_points": 5}}"#,
        )
        .unwrap();
        assert!(bad.validate().is_err());
    }
}
