//! Host-independent rules of points and levels, unit-tested natively.

use std::collections::BTreeMap;

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// Per-day totals are kept this long: the longest board window.
pub const KEEP_DAYS: u32 = 30;
pub const HOUR_PREFIX: &str = "hour:";
pub const TOTAL_PREFIX: &str = "total:";
pub const DAY_PREFIX: &str = "day:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub name: String,
    pub min: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub message_points: i64,
    pub reply_points: i64,
    pub reaction_received_points: i64,
    /// 0: no cap.
    pub max_points_per_hour: i64,
    pub levels: Vec<Level>,
    pub board_command: String,
    pub board_size: u32,
    pub level_tag_prefix: String,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        let level = |name: &str, min| Level {
            name: name.into(),
            min,
        };
        Config {
            message_points: 1,
            reply_points: 2,
            reaction_received_points: 1,
            max_points_per_hour: 20,
            levels: vec![
                level("Newcomer", 0),
                level("Regular", 50),
                level("Core", 200),
                level("Elder", 1000),
            ],
            board_command: "/board".into(),
            board_size: 10,
            level_tag_prefix: "level:".into(),
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
        for (name, v) in [
            ("message_points", self.message_points),
            ("reply_points", self.reply_points),
            ("reaction_received_points", self.reaction_received_points),
            ("max_points_per_hour", self.max_points_per_hour),
        ] {
            if v < 0 {
                return Err(format!("config: {name} must not be negative"));
            }
        }
        if self.levels.is_empty() {
            return Err("config: levels must not be empty".into());
        }
        if self.levels.windows(2).any(|w| w[0].min >= w[1].min) {
            return Err("config: levels must have strictly increasing min".into());
        }
        if self.levels.iter().any(|l| l.name.trim().is_empty()) {
            return Err("config: a level needs a name".into());
        }
        if self.board_command.trim().is_empty() || self.board_size == 0 {
            return Err("config: board_command and board_size are required".into());
        }
        Ok(self)
    }

    /// The level a total reaches; None below the first threshold.
    pub fn level_of(&self, total: i64) -> Option<&Level> {
        self.levels.iter().rev().find(|l| total >= l.min)
    }

    pub fn tag(&self, level: &Level) -> String {
        format!("{}{}", self.level_tag_prefix, level.name)
    }

    pub fn board(&self, text: &str) -> Option<Board> {
        let mut words = text.split_whitespace();
        if words.next() != Some(self.board_command.trim()) {
            return None;
        }
        Some(match (words.next(), words.next()) {
            (None, _) => Board::AllTime,
            (Some(n), None) => match n.parse::<u32>() {
                Ok(n) if (1..=KEEP_DAYS).contains(&n) => Board::Days(n),
                _ => Board::Usage,
            },
            _ => Board::Usage,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Board {
    AllTime,
    Days(u32),
    Usage,
}

pub fn config_schema() -> String {
    let points = json!({"type": "integer", "minimum": 0});
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        ("message_points", "Points for a message.", points.clone()),
        ("reply_points", "Points for a message that replies to another.", points.clone()),
        (
            "reaction_received_points",
            "Points to a message's author for each reaction from someone else.",
            points.clone(),
        ),
        (
            "max_points_per_hour",
            "Most points one member can earn in one clock hour; 0 for no cap.",
            points,
        ),
        (
            "levels",
            "Levels by total points earned here, lowest first.",
            json!({"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": false, "required": ["name", "min"],
                "properties": {"name": {"type": "string", "minLength": 1}, "min": {"type": "integer", "minimum": 0}}}}),
        ),
        (
            "board_command",
            "Chat command for the board: alone for all time, or followed by a number of days (1-30).",
            json!({"type": "string", "minLength": 1}),
        ),
        ("board_size", "How many members a board shows.", json!({"type": "integer", "minimum": 1, "maximum": 100})),
        (
            "level_tag_prefix",
            "Prefix of the member tag that shows the level, e.g. level:Regular.",
            json!({"type": "string"}),
        ),
    ], TEXTS)
}

/// Stored at `hour:<member>`: what the member earned in the current hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HourUse {
    pub hour: i64,
    pub points: i64,
}

pub fn hour_of(now: i64) -> i64 {
    now.div_euclid(HOUR_MS)
}

/// How much of `wanted` the hourly cap still allows, and the new usage.
pub fn capped(cfg: &Config, prev: Option<HourUse>, now: i64, wanted: i64) -> (i64, HourUse) {
    let hour = hour_of(now);
    let used = match prev {
        Some(p) if p.hour == hour => p.points,
        // An event of an earlier hour handled late: that hour's usage is no
        // longer known, so it counts against the newer hour rather than
        // resetting it (which would let a replay lift the cap).
        Some(p) if p.hour > hour => p.points,
        _ => 0,
    };
    let granted = if cfg.max_points_per_hour == 0 {
        wanted
    } else {
        wanted.min(cfg.max_points_per_hour - used).max(0)
    };
    (
        granted,
        HourUse {
            hour: hour.max(prev.map_or(hour, |p| p.hour)),
            points: used + granted,
        },
    )
}

pub fn day_index(now: i64, utc_offset_minutes: i32) -> i64 {
    now.saturating_add(i64::from(utc_offset_minutes) * 60_000)
        .div_euclid(DAY_MS)
}

/// Stored at `day:<day index>`: points earned that local day, by member.
/// One key per day (not per member and day) so a board reads at most 30
/// keys, and storage listing never hits its key limit.
pub type DayTotals = BTreeMap<String, i64>;

pub fn day_key(day: i64) -> String {
    format!("{DAY_PREFIX}{day}")
}

/// Day keys too old for any board.
pub fn expired_day_keys(keys: &[String], today: i64) -> Vec<String> {
    keys.iter()
        .filter(|k| {
            k.strip_prefix(DAY_PREFIX)
                .and_then(|d| d.parse::<i64>().ok())
                .is_some_and(|d| d <= today - i64::from(KEEP_DAYS))
        })
        .cloned()
        .collect()
}

/// Best first; the id breaks ties so the order never depends on storage.
pub fn top(totals: BTreeMap<String, i64>, size: u32) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = totals.into_iter().filter(|(_, p)| *p > 0).collect();
    rows.sort_by(|(ia, a), (ib, b)| b.cmp(a).then(ia.cmp(ib)));
    rows.truncate(size as usize);
    rows
}

/// Everything the game says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new("window_days", "近 {days} 天", "last {days} days"),
    Text::new("window_all", "总榜", "all time"),
    Text::new(
        "board_empty",
        "积分榜（{window}）：还没有人获得积分。",
        "Points board ({window}): no points yet.",
    ),
    Text::new(
        "board_title",
        "积分榜（{window}）：",
        "Points board ({window}):",
    ),
    Text::new(
        "board_row",
        "{rank}. {member} — {points}",
        "{rank}. {member} — {points}",
    ),
    Text::new(
        "usage",
        "用法：发送 {command} 查看总榜，或 {command} <天数> 查看近 1-{max} 天的榜单。",
        "Usage: {command} for all time, or {command} <days> with 1-{max} days.",
    ),
    Text::new(
        "level_up",
        "@{member} 升级为「{level}」",
        "@{member} reached level {level}",
    ),
];

pub fn board_message(t: &Texts, board: Board, rows: &[(String, i64)]) -> String {
    let window = match board {
        Board::Days(n) => t.render("window_days", &[("days", &n)]),
        _ => t.render("window_all", &[]),
    };
    if rows.is_empty() {
        return t.render("board_empty", &[("window", &window)]);
    }
    let mut text = t.render("board_title", &[("window", &window)]);
    for (i, (name, p)) in rows.iter().enumerate() {
        text.push('\n');
        text.push_str(&t.render(
            "board_row",
            &[("rank", &(i + 1)), ("member", name), ("points", p)],
        ));
    }
    text
}

pub fn usage(cfg: &Config) -> String {
    cfg.texts().render(
        "usage",
        &[("command", &cfg.board_command), ("max", &KEEP_DAYS)],
    )
}

pub fn level_up_message(t: &Texts, name: &str, level: &str) -> String {
    t.render("level_up", &[("member", &name), ("level", &level)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_schema_validation() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 10);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k}");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(
            props["levels"]["default"][1],
            json!({"name": "Regular", "min": 50})
        );
        let bad: Config = kith_plugin_util::parse_config(
            r#"{"levels": [{"name": "A", "min": 5}, {"name": "B", "min": 5}]}"#,
        )
        .unwrap();
        assert!(bad.validate().is_err());
        let bad: Config = kith_plugin_util::parse_config(r#"{"levels": []}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn levels_by_threshold() {
        let c = Config::default();
        assert_eq!(c.level_of(0).unwrap().name, "Newcomer");
        assert_eq!(c.level_of(49).unwrap().name, "Newcomer");
        assert_eq!(c.level_of(50).unwrap().name, "Regular");
        assert_eq!(c.level_of(5000).unwrap().name, "Elder");
        assert_eq!(c.tag(c.level_of(200).unwrap()), "level:Core");
        let c = Config {
            levels: vec![Level {
                name: "X".into(),
                min: 10,
            }],
            ..Config::default()
        };
        assert!(c.level_of(9).is_none());
    }

    #[test]
    fn hourly_cap_and_reset() {
        let c = Config::default();
        let t = 1_000 * HOUR_MS + 5;
        let (g, u) = capped(&c, None, t, 2);
        assert_eq!(
            (g, u),
            (
                2,
                HourUse {
                    hour: 1000,
                    points: 2
                }
            )
        );
        let (g, u) = capped(
            &c,
            Some(HourUse {
                hour: 1000,
                points: 19,
            }),
            t,
            2,
        );
        assert_eq!((g, u.points), (1, 20));
        let (g, _) = capped(&c, Some(u), t + 1000, 1);
        assert_eq!(g, 0);
        let (g, u) = capped(&c, Some(u), t + HOUR_MS, 1);
        assert_eq!(
            (g, u),
            (
                1,
                HourUse {
                    hour: 1001,
                    points: 1
                }
            )
        );
        let unlimited = Config {
            max_points_per_hour: 0,
            ..Config::default()
        };
        assert_eq!(
            capped(
                &unlimited,
                Some(HourUse {
                    hour: 1000,
                    points: 500
                }),
                t,
                3
            )
            .0,
            3
        );
    }

    #[test]
    fn board_commands() {
        let c = Config::default();
        assert_eq!(c.board("/board"), Some(Board::AllTime));
        assert_eq!(c.board(" /board 7 "), Some(Board::Days(7)));
        assert_eq!(c.board("/board 30"), Some(Board::Days(30)));
        assert_eq!(c.board("/board 31"), Some(Board::Usage));
        assert_eq!(c.board("/board x"), Some(Board::Usage));
        assert_eq!(c.board("/boards"), None);
        assert_eq!(c.board("hello"), None);
    }

    #[test]
    fn days_ranking_pruning_and_texts() {
        let (zh, en) = (
            Config::default(),
            Config {
                language: Language::En,
                ..Config::default()
            },
        );
        let (zh, t) = (zh.texts(), en.texts());
        assert_eq!(day_index(1_704_124_800_000, 480), 19_724);
        let keys = vec![
            "day:100".to_string(),
            "day:70".into(),
            "day:71".into(),
            "day:x".into(),
        ];
        assert_eq!(expired_day_keys(&keys, 100), vec!["day:70".to_string()]);
        let totals: BTreeMap<String, i64> = [
            ("b".to_string(), 5),
            ("a".into(), 5),
            ("c".into(), 9),
            ("z".into(), 0),
        ]
        .into();
        assert_eq!(
            top(totals.clone(), 10),
            vec![("c".to_string(), 9), ("a".into(), 5), ("b".into(), 5)]
        );
        assert_eq!(top(totals, 1).len(), 1);
        assert_eq!(
            board_message(&zh, Board::Days(7), &[("Amy".into(), 3)]),
            "积分榜（近 7 天）：\n1. Amy — 3"
        );
        assert_eq!(level_up_message(&zh, "Amy", "核心"), "@Amy 升级为「核心」");
        assert_eq!(
            board_message(&t, Board::Days(7), &[("Amy".into(), 3)]),
            "Points board (last 7 days):\n1. Amy — 3"
        );
        assert_eq!(
            board_message(&t, Board::AllTime, &[]),
            "Points board (all time): no points yet."
        );
        assert_eq!(
            level_up_message(&t, "Amy", "Core"),
            "@Amy reached level Core"
        );
    }
}
