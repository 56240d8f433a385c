//! Host-independent rules of the group competition, unit-tested natively:
//! the close schedule in local time, the ranking and the texts.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
pub const CLOSE: &str = "close";
pub const PERIOD_START: &str = "period_start";
pub const COMMAND: &str = "/competition";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub period_days: u32,
    pub reward_points: i64,
    pub top_n: u32,
    pub announce: bool,
    /// Local hour (group time zone) at which a period closes.
    pub hour: u8,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            period_days: 7,
            reward_points: 100,
            top_n: 1,
            announce: true,
            hour: 21,
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
    pub fn validate(self) -> Result<Self, String> {
        kith_plugin_util::check_overrides(TEXTS, &self.texts)?;
        if !(1..=365).contains(&self.period_days) {
            return Err("config: period_days must be 1-365".into());
        }
        if self.reward_points < 0 {
            return Err("config: reward_points must not be negative".into());
        }
        if self.top_n == 0 {
            return Err("config: top_n must be at least 1".into());
        }
        if self.hour > 23 {
            return Err("config: hour must be 0-23".into());
        }
        Ok(self)
    }

    pub fn period_ms(&self) -> i64 {
        i64::from(self.period_days) * DAY_MS
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "period_days",
                "Length of a competition period in days.",
                json!({"type": "integer", "minimum": 1, "maximum": 365}),
            ),
            (
                "reward_points",
                "Points to each member who spoke in a winning group during the period.",
                json!({"type": "integer", "minimum": 0}),
            ),
            (
                "top_n",
                "How many of the best-ranked groups of the alliance win.",
                json!({"type": "integer", "minimum": 1}),
            ),
            (
                "announce",
                "Post the result in the group when a period closes.",
                json!({"type": "boolean"}),
            ),
            (
                "hour",
                "Local hour (the group's time zone) at which a period closes.",
                json!({"type": "integer", "minimum": 0, "maximum": 23}),
            ),
        ],
        TEXTS,
    )
}

pub use kith_plugin_util::next_local_hour;

/// The first close after enabling: the next local `hour`:00, then the rest
/// of a period's days, so the first period is never much shorter than the
/// others.
pub fn first_close(cfg: &Config, now: i64, offset_minutes: i32) -> i64 {
    next_local_hour(now, offset_minutes, cfg.hour) + i64::from(cfg.period_days - 1) * DAY_MS
}

/// The close after the one due at `due_at`, at local `hour`:00 again and
/// after `now`. A fixed period in ms would drift by an hour across a
/// daylight-saving change; looking for the local hour from half a day before
/// the nominal time lands on the same local day whatever the shift.
pub fn next_close(cfg: &Config, due_at: i64, now: i64, offset_minutes: i32) -> i64 {
    let mut base = due_at + cfg.period_ms();
    loop {
        let at = next_local_hour(base - 12 * HOUR_MS, offset_minutes, cfg.hour);
        if at > now {
            return at;
        }
        base += cfg.period_ms();
    }
}

/// One group's activity over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub group: String,
    pub messages: u32,
    pub active_members: u32,
}

/// Best first: most messages, then most distinct speakers, then group id so
/// that every group of the alliance computes the same order.
pub fn rank(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then(b.active_members.cmp(&a.active_members))
            .then(a.group.cmp(&b.group))
    });
    rows
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The current group is among the winners.
    Won {
        rank: usize,
        of: usize,
        messages: u32,
    },
    Lost {
        rank: usize,
        of: usize,
        messages: u32,
        winner: String,
        winner_messages: u32,
    },
    /// Nobody in the alliance spoke: there is no winner.
    Quiet,
}

/// The current group's result among ranked rows. A silent group never wins,
/// even alone in its alliance or among other silent groups: a reward for no
/// activity would teach the wrong thing.
pub fn outcome(cfg: &Config, ranked: &[Row], current: &str) -> Outcome {
    let Some(best) = ranked.first().filter(|r| r.messages > 0) else {
        return Outcome::Quiet;
    };
    let (i, me) = ranked
        .iter()
        .enumerate()
        .find(|(_, r)| r.group == current)
        // The host always lists the current group; should it not, the
        // group counts as silent and last.
        .map(|(i, r)| (i, r.clone()))
        .unwrap_or((
            ranked.len(),
            Row {
                group: current.into(),
                messages: 0,
                active_members: 0,
            },
        ));
    let (rank, of) = (i + 1, ranked.len().max(i + 1));
    if rank <= cfg.top_n as usize && me.messages > 0 {
        Outcome::Won {
            rank,
            of,
            messages: me.messages,
        }
    } else {
        Outcome::Lost {
            rank,
            of,
            messages: me.messages,
            winner: best.group.clone(),
            winner_messages: best.messages,
        }
    }
}

/// Everything the game says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "won",
        "🏆 {group}本期以 {messages} 条消息在 {of} 个群中排名第 {rank}！{members} 位活跃成员每人 +{points} 积分",
        "🏆 {group} placed #{rank} of {of} this period with {messages} messages; +{points} points to each of {members} active members",
    ),
    Text::new(
        "lost",
        "本期排名：第 {rank}/{of} 名，共 {messages} 条消息。冠军：{winner}（{winner_messages} 条）。",
        "This period: #{rank} of {of} with {messages} messages. The winner: {winner} ({winner_messages}).",
    ),
    Text::new(
        "quiet",
        "本期联盟各群都没有消息，没有冠军。",
        "This period: no messages in any group of the alliance, so no winner.",
    ),
    Text::new("standings_title", "🏁 本期群排名：", "🏁 Competition standings this period:"),
    Text::new(
        "standings_row",
        "#{rank} {group} — {messages} 条消息，{members} 位活跃成员",
        "#{rank} {group} — {messages} messages, {members} active members",
    ),
];

pub fn won_message(
    t: &Texts,
    group_name: &str,
    rank: usize,
    of: usize,
    messages: u32,
    points: i64,
    members: usize,
) -> String {
    t.render(
        "won",
        &[
            ("group", &group_name),
            ("rank", &rank),
            ("of", &of),
            ("messages", &messages),
            ("points", &points),
            ("members", &members),
        ],
    )
}

pub fn lost_message(
    t: &Texts,
    rank: usize,
    of: usize,
    messages: u32,
    winner: &str,
    winner_messages: u32,
) -> String {
    t.render(
        "lost",
        &[
            ("rank", &rank),
            ("of", &of),
            ("messages", &messages),
            ("winner", &winner),
            ("winner_messages", &winner_messages),
        ],
    )
}

pub fn quiet_message(t: &Texts) -> String {
    t.render("quiet", &[])
}

/// `names` gives a display name per ranked row (the group id if unknown).
pub fn standings_message(t: &Texts, ranked: &[Row], names: &[String]) -> String {
    let mut text = t.render("standings_title", &[]);
    for (i, (r, name)) in ranked.iter().zip(names).enumerate() {
        text.push('\n');
        text.push_str(&t.render(
            "standings_row",
            &[
                ("rank", &(i + 1)),
                ("group", name),
                ("messages", &r.messages),
                ("members", &r.active_members),
            ],
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    const MINUTE_MS: i64 = 60_000;
    use super::*;

    /// 2026-03-01 00:30 in Shanghai (UTC+8), a Sunday.
    const START: i64 = 1_772_296_200_000;
    const MIDNIGHT: i64 = START - 30 * MINUTE_MS;

    fn row(group: &str, messages: u32, active_members: u32) -> Row {
        Row {
            group: group.into(),
            messages,
            active_members,
        }
    }

    #[test]
    fn config_defaults_schema_and_validation() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 7);
        for (k, p) in props {
            assert!(
                p.get("default").is_some() && p["description"].is_string(),
                "{k}"
            );
        }
        assert_eq!(props["period_days"]["default"], 7);
        assert_eq!(props["hour"]["default"], 21);
        assert_eq!(v["additionalProperties"], false);
        for bad in [
            r#"{"period_days": 0}"#,
            r#"{"top_n": 0}"#,
            r#"{"hour": 24}"#,
            r#"{"reward_points": -1}"#,
        ] {
            let c: Config = kith_plugin_util::parse_config(bad).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
        assert!(kith_plugin_util::parse_config::<Config>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn closes_are_at_the_local_hour() {
        let c = Config::default();
        assert_eq!(next_local_hour(START, 480, 21), MIDNIGHT + 21 * HOUR_MS);
        // Exactly at the hour: the next day's.
        let at = MIDNIGHT + 21 * HOUR_MS;
        assert_eq!(next_local_hour(at, 480, 21), at + DAY_MS);
        assert_eq!(next_local_hour(START, 480, 0), MIDNIGHT + DAY_MS);
        // Sunday 00:30 → Saturday 21:00.
        let first = first_close(&c, START, 480);
        assert_eq!(first, MIDNIGHT + 6 * DAY_MS + 21 * HOUR_MS);
        let daily = Config {
            period_days: 1,
            ..c.clone()
        };
        assert_eq!(first_close(&daily, START, 480), MIDNIGHT + 21 * HOUR_MS);
        // On time, and late by more than a period.
        assert_eq!(next_close(&c, first, first + 5, 480), first + 7 * DAY_MS);
        assert_eq!(
            next_close(&c, first, first + 8 * DAY_MS, 480),
            first + 14 * DAY_MS
        );
        // The offset moved by an hour (summer time starts): still 21:00 local.
        assert_eq!(
            next_close(&c, first, first, 540),
            first + 7 * DAY_MS - HOUR_MS
        );
        assert_eq!(
            next_close(&c, first, first, 420),
            first + 7 * DAY_MS + HOUR_MS
        );
    }

    #[test]
    fn ranking_and_ties() {
        let ranked = rank(vec![
            row("b", 4, 1),
            row("a", 9, 2),
            row("d", 4, 3),
            row("c", 4, 1),
        ]);
        let order: Vec<&str> = ranked.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(order, ["a", "d", "b", "c"]);
    }

    #[test]
    fn outcomes() {
        let c = Config::default();
        let ranked = rank(vec![row("b", 4, 1), row("a", 9, 2), row("c", 0, 0)]);
        assert_eq!(
            outcome(&c, &ranked, "a"),
            Outcome::Won {
                rank: 1,
                of: 3,
                messages: 9
            }
        );
        assert_eq!(
            outcome(&c, &ranked, "b"),
            Outcome::Lost {
                rank: 2,
                of: 3,
                messages: 4,
                winner: "a".into(),
                winner_messages: 9
            }
        );
        let top2 = Config {
            top_n: 2,
            ..c.clone()
        };
        assert_eq!(
            outcome(&top2, &ranked, "b"),
            Outcome::Won {
                rank: 2,
                of: 3,
                messages: 4
            }
        );
        // Within the top but silent: no win.
        let top3 = Config {
            top_n: 3,
            ..c.clone()
        };
        assert!(matches!(
            outcome(&top3, &ranked, "c"),
            Outcome::Lost { rank: 3, .. }
        ));
        assert_eq!(
            outcome(&c, &rank(vec![row("a", 0, 0), row("b", 0, 0)]), "a"),
            Outcome::Quiet
        );
        // Alone in no alliance: wins when active.
        assert_eq!(
            outcome(&c, &[row("solo", 2, 1)], "solo"),
            Outcome::Won {
                rank: 1,
                of: 1,
                messages: 2
            }
        );
    }

    #[test]
    fn texts() {
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let (zh, t) = (Config::default(), en.texts());
        let zh = zh.texts();
        assert_eq!(
            won_message(&zh, "广州分会", 1, 3, 7, 100, 2),
            "🏆 广州分会本期以 7 条消息在 3 个群中排名第 1！2 位活跃成员每人 +100 积分"
        );
        assert_eq!(
            won_message(&t, "Club GZ", 1, 3, 7, 100, 2),
            "🏆 Club GZ placed #1 of 3 this period with 7 messages; +100 points to each of 2 active members"
        );
        assert_eq!(
            lost_message(&t, 2, 3, 4, "gz", 7),
            "This period: #2 of 3 with 4 messages. The winner: gz (7)."
        );
        assert_eq!(
            standings_message(&t, &[row("a", 3, 2), row("b", 0, 0)], &["A".into(), "b".into()]),
            "🏁 Competition standings this period:\n#1 A — 3 messages, 2 active members\n#2 b — 0 messages, 0 active members"
        );
    }
}
