//! Host-independent rules of the referral flow, unit-tested natively.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reward_threshold: u32,
    pub reward_points: i64,
    pub reward_tag: String,
    pub link_command: String,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reward_threshold: 3,
            reward_points: 100,
            reward_tag: "referral-champion".into(),
            link_command: "/mylink".into(),
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
    /// The schema forbids these too; checked again because a threshold of 0
    /// could never be met and negative points would debit the champion.
    pub fn validate(self) -> Result<Self, String> {
        kith_plugin_util::check_overrides(TEXTS, &self.texts)?;
        if self.reward_threshold < 1 {
            return Err("config: reward_threshold must be at least 1".into());
        }
        if self.reward_points < 0 {
            return Err("config: reward_points must not be negative".into());
        }
        if self.reward_tag.trim().is_empty() {
            return Err("config: reward_tag must not be empty".into());
        }
        Ok(self)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "reward_threshold",
                "Friends a member must bring in to earn the reward (paid once).",
                json!({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
            ),
            (
                "reward_points",
                "Points credited when the threshold is reached.",
                json!({"type": "integer", "minimum": 0}),
            ),
            (
                "reward_tag",
                "Tag added to a member when the threshold is reached.",
                json!({"type": "string", "minLength": 1}),
            ),
            (
                "link_command",
                "Chat message that asks for one's personal referral link.",
                json!({"type": "string", "minLength": 1}),
            ),
        ],
        TEXTS,
    )
}

pub fn attributed_key(member: &str) -> String {
    format!("attributed:{member}")
}

pub fn count_key(referrer: &str) -> String {
    format!("count:{referrer}")
}

/// The referrer to credit for a join, if any: self-referrals and members
/// already attributed once (rejoins) earn nothing.
pub fn referrer_to_credit<'a>(
    member: &str,
    inviter: Option<&'a str>,
    already_attributed: bool,
) -> Option<&'a str> {
    match inviter {
        Some(x) if x != member && !x.is_empty() && !already_attributed => Some(x),
        _ => None,
    }
}

/// Exactly equal, so the reward unlocks once even as the count keeps growing.
pub fn unlocks_reward(new_count: u32, cfg: &Config) -> bool {
    new_count == cfg.reward_threshold
}

/// Everything the plugin says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "link",
        "你的专属邀请码：{code}（好友入群时填写）。邀请 {threshold} 位好友入群，奖励 {points} 积分。",
        "Your personal invite code: {code} (friends give it when they join). Reward at {threshold} friends joined: {points} points.",
    ),
    Text::new(
        "reward",
        "你已邀请 {threshold} 位好友入群：+{points} 积分。",
        "You brought {threshold} friends: +{points} points.",
    ),
];

/// The message with a member's host-issued referral code.
pub fn link_message(code: &str, cfg: &Config) -> String {
    cfg.texts().render(
        "link",
        &[
            ("code", &code),
            ("threshold", &cfg.reward_threshold),
            ("points", &cfg.reward_points),
        ],
    )
}

pub fn award_reason(cfg: &Config) -> String {
    format!("referral reward: {} friends joined", cfg.reward_threshold)
}

pub fn reward_message(cfg: &Config) -> String {
    cfg.texts().render(
        "reward",
        &[
            ("threshold", &cfg.reward_threshold),
            ("points", &cfg.reward_points),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c: Config = kith_plugin_util::parse_config(r#"{"reward_points": 5}"#).unwrap();
        assert_eq!(
            c,
            Config {
                reward_points: 5,
                ..Config::default()
            }
        );
        let bad: Config = kith_plugin_util::parse_config(r#"{"reward_threshold": 0}"#).unwrap();
        assert!(bad.validate().is_err());
        let bad: Config = kith_plugin_util::parse_config(r#"{"reward_points": -5}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn schema_lists_every_property_with_default() {
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 6);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k} has no description");
        }
        assert_eq!(props["reward_tag"]["default"], "referral-champion");
    }

    #[test]
    fn who_gets_credited() {
        assert_eq!(referrer_to_credit("m", Some("r"), false), Some("r"));
        assert_eq!(referrer_to_credit("m", None, false), None);
        assert_eq!(referrer_to_credit("m", Some("m"), false), None);
        assert_eq!(referrer_to_credit("m", Some("r"), true), None);
        assert_eq!(referrer_to_credit("m", Some(""), false), None);
    }

    #[test]
    fn reward_unlocks_exactly_once() {
        let c = Config::default();
        let unlocked: Vec<u32> = (1..10).filter(|n| unlocks_reward(*n, &c)).collect();
        assert_eq!(unlocked, [3]);
    }

    #[test]
    fn messages() {
        assert_eq!(
            reward_message(&Config::default()),
            "你已邀请 3 位好友入群：+100 积分。"
        );
        let c = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(
            link_message("7K2M9QXD4R", &c),
            "Your personal invite code: 7K2M9QXD4R (friends give it when they join). Reward at 3 friends joined: 100 points."
        );
        assert_eq!(award_reason(&c), "referral reward: 3 friends joined");
        assert_eq!(reward_message(&c), "You brought 3 friends: +100 points.");
    }
}
