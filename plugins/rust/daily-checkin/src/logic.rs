//! Host-independent rules of the daily check-in game, unit-tested natively.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;
pub const STATE_PREFIX: &str = "member:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub commands: Vec<String>,
    pub base_reward: i64,
    pub streak_bonus: i64,
    pub max_bonus: i64,
    pub leaderboard_command: String,
    pub leaderboard_size: u32,
    /// Local hour (0-23) of a daily "check in now" post; None: no reminder.
    pub reminder_hour: Option<u8>,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            commands: vec!["/checkin".into(), "签到".into(), "打卡".into()],
            base_reward: 10,
            streak_bonus: 2,
            max_bonus: 20,
            leaderboard_command: "/rank".into(),
            leaderboard_size: 10,
            reminder_hour: None,
            language: Language::default(),
            texts: Overrides::new(),
        }
    }
}

impl Config {
    /// The plugin's messages in the configured language.
    pub fn texts(&self) -> Texts<'_> {
        Texts::new(TEXTS, self.language, &self.texts)
    }
}

impl Config {
    /// Negative amounts would turn a check-in into a debit; the schema
    /// forbids them but the plugin does not rely on the host having checked.
    pub fn validate(self) -> Result<Self, String> {
        kith_plugin_util::check_overrides(TEXTS, &self.texts)?;
        for (name, v) in [
            ("base_reward", self.base_reward),
            ("streak_bonus", self.streak_bonus),
            ("max_bonus", self.max_bonus),
        ] {
            if v < 0 {
                return Err(format!("config: {name} must not be negative"));
            }
        }
        if self.reminder_hour.is_some_and(|h| h > 23) {
            return Err("config: reminder_hour must be 0-23".into());
        }
        if self.leaderboard_size < 1 {
            return Err("config: leaderboard_size must be at least 1".into());
        }
        Ok(self)
    }

    pub fn is_checkin(&self, text: &str) -> bool {
        self.commands
            .iter()
            .any(|c| kith_plugin_util::is_command(text, c))
    }

    pub fn is_leaderboard(&self, text: &str) -> bool {
        kith_plugin_util::is_command(text, &self.leaderboard_command)
    }
}

pub fn config_schema() -> String {
    let points = json!({"type": "integer", "minimum": 0});
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "commands",
                "Chat messages that count as a check-in.",
                json!({"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true}),
            ),
            ("base_reward", "Points for every check-in.", points.clone()),
            (
                "streak_bonus",
                "Extra points per consecutive day after the first.",
                points.clone(),
            ),
            (
                "max_bonus",
                "Cap on the streak bonus of one check-in.",
                points,
            ),
            (
                "leaderboard_command",
                "Chat message that posts the leaderboard.",
                json!({"type": "string", "minLength": 1}),
            ),
            (
                "leaderboard_size",
                "How many members the leaderboard shows.",
                json!({"type": "integer", "minimum": 1, "maximum": 100}),
            ),
            (
                "reminder_hour",
                "Local hour (0-23) of a daily reminder post; null for none.",
                json!({"type": ["integer", "null"], "minimum": 0, "maximum": 23}),
            ),
        ],
        TEXTS,
    )
}

/// Stored at `member:<id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    pub last_day: i64,
    pub streak: u32,
    pub total_days: u32,
    pub total_points: i64,
}

pub fn state_key(member: &str) -> String {
    format!("{STATE_PREFIX}{member}")
}

/// The group's local calendar day number. Floor division, because an event
/// before 1970 in local time (or a negative offset near the epoch) must not
/// round towards zero and merge two days.
pub fn day_index(now_ms: i64, utc_offset_minutes: i32) -> i64 {
    now_ms
        .saturating_add(i64::from(utc_offset_minutes) * 60_000)
        .div_euclid(DAY_MS)
}

pub fn reward(cfg: &Config, streak: u32) -> i64 {
    let bonus = i64::from(streak.saturating_sub(1)).saturating_mul(cfg.streak_bonus);
    cfg.base_reward.saturating_add(bonus.min(cfg.max_bonus))
}

#[derive(Debug, PartialEq)]
pub enum CheckIn {
    Already { streak: u32 },
    Done { state: MemberState, reward: i64 },
}

pub fn check_in(prev: Option<&MemberState>, day: i64, cfg: &Config) -> CheckIn {
    let streak = match prev {
        // `>=`, not `==`: an event for an earlier day handled late (a retry,
        // a time-zone offset change) must not pay twice or reset the streak.
        Some(p) if p.last_day >= day => return CheckIn::Already { streak: p.streak },
        Some(p) if p.last_day == day - 1 => p.streak.saturating_add(1),
        _ => 1,
    };
    let reward = reward(cfg, streak);
    let base = prev.cloned().unwrap_or_default();
    CheckIn::Done {
        state: MemberState {
            last_day: day,
            streak,
            total_days: base.total_days.saturating_add(1),
            total_points: base.total_points.saturating_add(reward),
        },
        reward,
    }
}

/// Everything the game says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "checked_in",
        "@{member} 签到成功：连续第 {streak} 天，+{points} 积分。",
        "@{member} checked in: day {streak} of the streak, +{points} points.",
    ),
    Text::new(
        "already",
        "@{member} 今天已经签到过了（已连续 {streak} 天）。",
        "@{member} already checked in today (streak {streak}).",
    ),
    Text::new("leaderboard_empty", "还没有人签到。", "No check-ins yet."),
    Text::new("leaderboard_title", "签到排行榜：", "Check-in leaderboard:"),
    Text::new(
        "leaderboard_row",
        "{rank}. {member} — 连续 {streak} 天，累计 {days} 天",
        "{rank}. {member} — streak {streak}, {days} days",
    ),
    Text::new(
        "reminder",
        "今日签到开始啦：发送「{command}」，保持连续签到。",
        "Daily check-in is open: send {command} to keep your streak.",
    ),
];

pub fn award_reason(streak: u32) -> String {
    format!("daily check-in, streak {streak}")
}

pub fn already_message(t: &Texts, name: &str, streak: u32) -> String {
    t.render("already", &[("member", &name), ("streak", &streak)])
}

pub fn checked_in_message(t: &Texts, name: &str, streak: u32, reward: i64) -> String {
    t.render(
        "checked_in",
        &[("member", &name), ("streak", &streak), ("points", &reward)],
    )
}

/// Best first: longest streak, then most days; the id breaks ties so the
/// order is stable whatever order storage lists keys in.
pub fn rank(mut entries: Vec<(String, MemberState)>, size: u32) -> Vec<(String, MemberState)> {
    entries.sort_by(|(ida, a), (idb, b)| {
        b.streak
            .cmp(&a.streak)
            .then(b.total_days.cmp(&a.total_days))
            .then(ida.cmp(idb))
    });
    entries.truncate(size as usize);
    entries
}

/// `rows` are (display name, state) in rank order.
pub fn leaderboard_message(t: &Texts, rows: &[(String, MemberState)]) -> String {
    if rows.is_empty() {
        return t.render("leaderboard_empty", &[]);
    }
    let mut text = t.render("leaderboard_title", &[]);
    for (i, (name, s)) in rows.iter().enumerate() {
        text.push('\n');
        text.push_str(&t.render(
            "leaderboard_row",
            &[
                ("rank", &(i + 1)),
                ("member", name),
                ("streak", &s.streak),
                ("days", &s.total_days),
            ],
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(last_day: i64, streak: u32, total_days: u32) -> MemberState {
        MemberState {
            last_day,
            streak,
            total_days,
            total_points: 0,
        }
    }

    #[test]
    fn defaults_validation_and_commands() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        assert!(
            c.is_checkin(" 签到 ") && c.is_checkin("/checkin") && !c.is_checkin("/checkin now")
        );
        assert!(c.is_leaderboard("/rank"));
        let bad: Config = kith_plugin_util::parse_config(r#"{"base_reward": -1}"#).unwrap();
        assert!(bad.validate().is_err());
        let bad: Config = kith_plugin_util::parse_config(r#"{"leaderboard_size": 0}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn schema_lists_every_property_with_default() {
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 9);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k} has no description");
        }
        assert_eq!(
            props["commands"]["default"],
            json!(["/checkin", "签到", "打卡"])
        );
    }

    #[test]
    fn day_index_uses_local_midnight_and_floors() {
        // 2024-01-01T16:00:00Z is 2024-01-02 00:00 in UTC+8.
        let t = 1_704_124_800_000;
        assert_eq!(day_index(t, 0), 19_723);
        assert_eq!(day_index(t, 480), 19_724);
        assert_eq!(day_index(t - 1, 480), 19_723);
        assert_eq!(day_index(-1, 0), -1);
        assert_eq!(day_index(0, -60), -1);
    }

    #[test]
    fn reward_grows_with_streak_up_to_cap() {
        let c = Config::default();
        assert_eq!(reward(&c, 1), 10);
        assert_eq!(reward(&c, 2), 12);
        assert_eq!(reward(&c, 11), 30);
        assert_eq!(reward(&c, 50), 30);
        assert_eq!(reward(&c, u32::MAX), 30);
    }

    #[test]
    fn streak_continues_resets_or_refuses() {
        let c = Config::default();
        match check_in(None, 100, &c) {
            CheckIn::Done { state, reward } => {
                assert_eq!(
                    state,
                    MemberState {
                        last_day: 100,
                        streak: 1,
                        total_days: 1,
                        total_points: 10
                    }
                );
                assert_eq!(reward, 10);
            }
            o => panic!("{o:?}"),
        }
        let prev = MemberState {
            last_day: 99,
            streak: 3,
            total_days: 7,
            total_points: 80,
        };
        match check_in(Some(&prev), 100, &c) {
            CheckIn::Done { state, reward } => {
                assert_eq!(reward, 16);
                assert_eq!(
                    state,
                    MemberState {
                        last_day: 100,
                        streak: 4,
                        total_days: 8,
                        total_points: 96
                    }
                );
            }
            o => panic!("{o:?}"),
        }
        match check_in(Some(&prev), 101, &c) {
            CheckIn::Done { state, reward } => {
                assert_eq!((state.streak, reward, state.total_days), (1, 10, 8))
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(
            check_in(Some(&prev), 99, &c),
            CheckIn::Already { streak: 3 }
        );
        assert_eq!(
            check_in(Some(&prev), 98, &c),
            CheckIn::Already { streak: 3 }
        );
    }

    fn en() -> Config {
        Config {
            language: Language::En,
            ..Config::default()
        }
    }

    #[test]
    fn messages() {
        let zh = Config::default();
        assert_eq!(
            checked_in_message(&zh.texts(), "Amy", 1, 10),
            "@Amy 签到成功：连续第 1 天，+10 积分。"
        );
        assert_eq!(
            reminder_message(&zh),
            "今日签到开始啦：发送「/checkin」，保持连续签到。"
        );
        let en = en();
        let t = en.texts();
        assert_eq!(
            already_message(&t, "Ann", 3),
            "@Ann already checked in today (streak 3)."
        );
        assert_eq!(
            checked_in_message(&t, "Ann", 4, 16),
            "@Ann checked in: day 4 of the streak, +16 points."
        );
        assert_eq!(award_reason(4), "daily check-in, streak 4");
    }

    #[test]
    fn ranking_order_and_size() {
        let entries = vec![
            ("c".to_string(), st(1, 2, 9)),
            ("b".to_string(), st(1, 5, 5)),
            ("a".to_string(), st(1, 2, 9)),
            ("d".to_string(), st(1, 2, 10)),
        ];
        let ids: Vec<_> = rank(entries.clone(), 10)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["b", "d", "a", "c"]);
        assert_eq!(rank(entries, 2).len(), 2);
    }

    #[test]
    fn leaderboard_text() {
        let en = en();
        let t = en.texts();
        assert_eq!(leaderboard_message(&t, &[]), "No check-ins yet.");
        let rows = vec![
            ("Ann".to_string(), st(1, 5, 12)),
            ("u2".to_string(), st(1, 1, 1)),
        ];
        assert_eq!(
            leaderboard_message(&Config::default().texts(), &rows),
            "签到排行榜：\n1. Ann — 连续 5 天，累计 12 天\n2. u2 — 连续 1 天，累计 1 天"
        );
        assert_eq!(
            leaderboard_message(&t, &rows),
            "Check-in leaderboard:\n1. Ann — streak 5, 12 days\n2. u2 — streak 1, 1 days"
        );
    }
}

pub use kith_plugin_util::next_local_hour;

pub fn reminder_message(cfg: &Config) -> String {
    let command = cfg
        .commands
        .first()
        .map(String::as_str)
        .unwrap_or("/checkin");
    cfg.texts().render("reminder", &[("command", &command)])
}

#[cfg(test)]
mod reminder_tests {
    use super::*;

    #[test]
    fn next_local_hour_is_in_the_group_zone_and_in_the_future() {
        // 2026-03-01 00:30 in Shanghai = 2026-02-28 16:30 UTC.
        let now = 1_772_296_200_000;
        // 09:00 Shanghai the same local day = 01:00 UTC on 03-01.
        assert_eq!(next_local_hour(now, 480, 9), 1_772_326_800_000);
        // 00:00 has passed locally: tomorrow's.
        assert_eq!(next_local_hour(now, 480, 0), 1_772_294_400_000 + 86_400_000);
    }
}
