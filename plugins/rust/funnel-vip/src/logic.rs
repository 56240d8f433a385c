//! Host-independent rules of the funnel (newcomer → lurker / participant →
//! core → paying VIP), unit-tested natively.

use std::collections::BTreeMap;

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const DAY_MS: i64 = 86_400_000;
pub const STAGE_PREFIX: &str = "stage:";
pub const REPURCHASE_PREFIX: &str = "repurchase:";
pub const SCAN: &str = "lurker-scan";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub participant_messages: u32,
    pub participant_window_days: u32,
    pub core_messages: u32,
    pub core_window_days: u32,
    pub lurker_days: u32,
    pub vip_tag: String,
    /// Minor units; a single payment of at least this tags "big-customer".
    pub big_customer_amount: i64,
    pub repurchase_days: u32,
    /// Older spelling of `texts.reminder`; "" (the default) uses `texts`.
    pub reminder_text: String,
    /// Payment purposes that count as a purchase; empty: every payment.
    pub purposes: Vec<String>,
    pub scan_hour: u8,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            participant_messages: 3,
            participant_window_days: 7,
            core_messages: 20,
            core_window_days: 30,
            lurker_days: 7,
            vip_tag: "vip".into(),
            big_customer_amount: 100_000,
            repurchase_days: 30,
            reminder_text: String::new(),
            purposes: vec![],
            scan_hour: 10,
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
            ("participant_messages", self.participant_messages),
            ("participant_window_days", self.participant_window_days),
            ("core_messages", self.core_messages),
            ("core_window_days", self.core_window_days),
            ("lurker_days", self.lurker_days),
            ("repurchase_days", self.repurchase_days),
        ] {
            if v < 1 {
                return Err(format!("config: {name} must be at least 1"));
            }
        }
        if self.scan_hour > 23 {
            return Err("config: scan_hour must be 0-23".into());
        }
        if self.vip_tag.trim().is_empty() {
            return Err("config: vip_tag must not be empty".into());
        }
        Ok(self)
    }

    pub fn counts_as_purchase(&self, purpose: &str) -> bool {
        self.purposes.is_empty() || self.purposes.iter().any(|p| p == purpose)
    }
}

pub fn config_schema() -> String {
    let count = json!({"type": "integer", "minimum": 1, "maximum": 100000});
    let days = json!({"type": "integer", "minimum": 1, "maximum": 3650});
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "participant_messages",
            "Messages within participant_window_days that make a member a participant.",
            count.clone(),
        ),
        (
            "participant_window_days",
            "Window of the participant count, in days.",
            days.clone(),
        ),
        (
            "core_messages",
            "Messages within core_window_days that make a member core.",
            count,
        ),
        (
            "core_window_days",
            "Window of the core count, in days.",
            days.clone(),
        ),
        (
            "lurker_days",
            "Days without activity after which a newcomer or participant becomes a lurker.",
            days.clone(),
        ),
        (
            "vip_tag",
            "Tag given to paying members (besides stage:vip, bought and the vip role).",
            json!({"type": "string", "minLength": 1, "maxLength": 64}),
        ),
        (
            "big_customer_amount",
            "A payment of at least this (minor units) also tags big-customer.",
            json!({"type": "integer", "minimum": 1}),
        ),
        (
            "repurchase_days",
            "Days after the last purchase when the repurchase reminder DM is sent.",
            days,
        ),
        (
            "reminder_text",
            "The repurchase reminder DM; {name} is replaced. Empty: texts.reminder in the configured language.",
            json!({"type": "string", "maxLength": 2000}),
        ),
        (
            "purposes",
            "Payment purposes that count as a purchase; empty for every payment.",
            json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
        ),
        (
            "scan_hour",
            "Local hour (0-23) of the daily lurker scan.",
            json!({"type": "integer", "minimum": 0, "maximum": 23}),
        ),
    ], TEXTS)
}

/// Funnel stages, in order: a member only moves up by activity or payment,
/// and down only to lurker by the daily scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Newcomer,
    Lurker,
    Participant,
    Core,
    Vip,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Newcomer,
        Stage::Lurker,
        Stage::Participant,
        Stage::Core,
        Stage::Vip,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Newcomer => "newcomer",
            Stage::Lurker => "lurker",
            Stage::Participant => "participant",
            Stage::Core => "core",
            Stage::Vip => "vip",
        }
    }

    pub fn tag(self) -> String {
        format!("{STAGE_PREFIX}{}", self.name())
    }

    /// The highest stage among a member's tags.
    pub fn of(tags: &[String]) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .rev()
            .find(|s| tags.iter().any(|t| *t == s.tag()))
    }
}

/// Messages per day number, stored at `msgs:<member>`.
pub type Counts = BTreeMap<i64, u32>;

pub fn counts_key(member: &str) -> String {
    format!("msgs:{member}")
}

pub fn purchase_key(member: &str) -> String {
    format!("purchase:{member}")
}

pub fn repurchase_timer(member: &str) -> String {
    format!("{REPURCHASE_PREFIX}{member}")
}

pub fn day_index(now: i64, utc_offset_minutes: i32) -> i64 {
    now.saturating_add(i64::from(utc_offset_minutes) * 60_000)
        .div_euclid(DAY_MS)
}

/// Counts one message on `day` and forgets days no window looks at.
pub fn count_message(mut counts: Counts, day: i64, cfg: &Config) -> Counts {
    *counts.entry(day).or_insert(0) += 1;
    let keep = i64::from(cfg.core_window_days.max(cfg.participant_window_days));
    counts.retain(|d, _| *d > day - keep);
    counts
}

/// Messages in the `window` days ending with `today`.
pub fn in_window(counts: &Counts, today: i64, window: u32) -> u32 {
    counts
        .range(today - i64::from(window) + 1..=today)
        .map(|(_, c)| *c)
        .sum()
}

/// The stage a member reaches after a message: never lower than the current one.
pub fn after_message(current: Option<Stage>, counts: &Counts, today: i64, cfg: &Config) -> Stage {
    let earned = if in_window(counts, today, cfg.core_window_days) >= cfg.core_messages {
        Stage::Core
    } else if in_window(counts, today, cfg.participant_window_days) >= cfg.participant_messages {
        Stage::Participant
    } else {
        Stage::Newcomer
    };
    current.map_or(earned, |c| c.max(earned))
}

/// Whether the daily scan turns a silent member into a lurker.
pub fn demote_to_lurker(current: Option<Stage>) -> bool {
    matches!(
        current,
        None | Some(Stage::Newcomer) | Some(Stage::Participant)
    )
}

/// Everything the flow says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[Text::new(
    "reminder",
    "{name}，距离你上次下单已经有一段时间了。会员可以优先挑选新品，想再次下单直接回复就好。",
    "Hi {name}, it has been a while since your last order. Members get first pick of what is new: just reply if you want to order again.",
)];

pub fn reminder(cfg: &Config, name: &str) -> String {
    let template = if cfg.reminder_text.is_empty() {
        cfg.texts().template("reminder")
    } else {
        &cfg.reminder_text
    };
    kith_plugin_util::text::fill(template, &[("name", &name)])
}

pub use kith_plugin_util::next_local_hour;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_schema() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 13);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(props["core_messages"]["default"], 20);
        assert!(c.counts_as_purchase("anything"));
        let only = Config {
            purposes: vec!["course".into()],
            ..Config::default()
        };
        assert!(only.counts_as_purchase("course") && !only.counts_as_purchase("entry"));
        let bad: Config = kith_plugin_util::parse_config(r#"{"lurker_days": 0}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn stages_from_tags() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Stage::of(&tags(&["x", "stage:core"])), Some(Stage::Core));
        assert_eq!(
            Stage::of(&tags(&["stage:newcomer", "stage:vip"])),
            Some(Stage::Vip)
        );
        assert_eq!(Stage::of(&tags(&["vip"])), None);
        assert_eq!(Stage::Lurker.tag(), "stage:lurker");
    }

    #[test]
    fn counting_and_windows() {
        let c = Config::default();
        let mut counts = Counts::new();
        for day in [100, 100, 101, 130] {
            counts = count_message(counts, day, &c);
        }
        // Day 100 is outside the 30-day window ending on day 130.
        assert_eq!(counts.keys().copied().collect::<Vec<_>>(), [101, 130]);
        assert_eq!(in_window(&counts, 130, 30), 2);
        assert_eq!(in_window(&counts, 130, 7), 1);
    }

    #[test]
    fn promotion_never_demotes() {
        let c = Config::default();
        let day = 50;
        let mut counts = Counts::new();
        counts.insert(day - 7, 5); // outside the 7-day window
        counts.insert(day, 2);
        assert_eq!(after_message(None, &counts, day, &c), Stage::Newcomer);
        counts.insert(day - 6, 1);
        assert_eq!(
            after_message(Some(Stage::Newcomer), &counts, day, &c),
            Stage::Participant
        );
        counts.insert(day - 20, 12);
        assert_eq!(
            after_message(Some(Stage::Participant), &counts, day, &c),
            Stage::Core
        );
        assert_eq!(
            after_message(Some(Stage::Vip), &counts, day, &c),
            Stage::Vip
        );
        assert_eq!(
            after_message(Some(Stage::Core), &Counts::new(), day, &c),
            Stage::Core
        );
        assert!(demote_to_lurker(Some(Stage::Participant)) && demote_to_lurker(None));
        assert!(!demote_to_lurker(Some(Stage::Core)) && !demote_to_lurker(Some(Stage::Vip)));
        assert!(!demote_to_lurker(Some(Stage::Lurker)));
    }

    #[test]
    fn reminder_text() {
        let c = Config {
            reminder_text: "{name}, time to restock?".into(),
            ..Config::default()
        };
        assert_eq!(reminder(&c, "Amy"), "Amy, time to restock?");
        assert_eq!(
            reminder(&Config::default(), "Amy"),
            "Amy，距离你上次下单已经有一段时间了。会员可以优先挑选新品，想再次下单直接回复就好。"
        );
    }
}
