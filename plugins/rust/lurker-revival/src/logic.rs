//! Host-independent rules of lurker revival, unit-tested natively.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const DAY_MS: i64 = 86_400_000;
pub const STATE_PREFIX: &str = "state:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub silent_days: u32,
    /// Days after the invitation before the warning; None skips the warning.
    pub warn_after_days: Option<u32>,
    /// Days after the warning (or the invitation, when there is no warning
    /// step) before removal; None never removes.
    pub remove_after_days: Option<u32>,
    /// Older spelling of `texts.invite`; "" (the default) uses `texts`.
    pub dm_text: String,
    /// Older spelling of `texts.warn`; "" (the default) uses `texts`.
    pub warn_text: String,
    /// Sent when a member with an open invitation speaks again; None:
    /// nothing; "" (the default): `texts.welcome_back`.
    pub welcome_back_text: Option<String>,
    pub scan_hour: u8,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            silent_days: 14,
            warn_after_days: Some(7),
            remove_after_days: Some(7),
            dm_text: String::new(),
            warn_text: String::new(),
            welcome_back_text: Some(String::new()),
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
        if self.silent_days < 1 {
            return Err("config: silent_days must be at least 1".into());
        }
        if self.scan_hour > 23 {
            return Err("config: scan_hour must be 0-23".into());
        }
        Ok(self)
    }
}

pub fn config_schema() -> String {
    let days_or_null = json!({"type": ["integer", "null"], "minimum": 0, "maximum": 3650});
    let text = json!({"type": "string", "maxLength": 2000});
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "silent_days",
            "Days without a message or reaction before a member is invited back by DM.",
            json!({"type": "integer", "minimum": 1, "maximum": 3650}),
        ),
        (
            "warn_after_days",
            "Days after the invitation before a warning DM; null skips the warning.",
            days_or_null.clone(),
        ),
        (
            "remove_after_days",
            "Days after the warning (or the invitation, without a warning step) before removal; null never removes.",
            days_or_null,
        ),
        (
            "dm_text",
            "The invitation DM; {name} and {group} are replaced. Empty: texts.invite in the configured language.",
            text.clone(),
        ),
        (
            "warn_text",
            "The warning DM; {name} and {group} are replaced. Empty: texts.warn in the configured language.",
            text.clone(),
        ),
        (
            "welcome_back_text",
            "DM to a member who speaks again after an invitation; null for none. Empty: texts.welcome_back in the configured language.",
            json!({"type": ["string", "null"], "maxLength": 2000}),
        ),
        (
            "scan_hour",
            "Local hour (0-23) of the daily scan for silent members.",
            json!({"type": "integer", "minimum": 0, "maximum": 23}),
        ),
    ], TEXTS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Invited,
    Warned,
}

/// Stored at `state:<member>`: the last step taken and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub stage: Stage,
    pub at: i64,
}

pub fn state_key(member: &str) -> String {
    format!("{STATE_PREFIX}{member}")
}

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Invite,
    Warn,
    Remove,
    Wait,
}

fn due(since: i64, days: u32, now: i64) -> bool {
    now >= since.saturating_add(i64::from(days) * DAY_MS)
}

/// The next step for a member the scan found silent.
pub fn next_step(state: Option<&State>, now: i64, cfg: &Config) -> Step {
    let Some(state) = state else {
        return Step::Invite;
    };
    match (state.stage, cfg.warn_after_days, cfg.remove_after_days) {
        (Stage::Invited, Some(warn), _) if due(state.at, warn, now) => Step::Warn,
        (Stage::Invited, None, Some(remove)) if due(state.at, remove, now) => Step::Remove,
        (Stage::Warned, _, Some(remove)) if due(state.at, remove, now) => Step::Remove,
        _ => Step::Wait,
    }
}

/// Everything the plugin says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "invite",
        "{name}，好久没在{group}见到你了，大家都很想你！有空来聊聊最近在忙什么吧。",
        "Hi {name}, we miss you in {group}! Drop by and tell us what you are up to.",
    ),
    Text::new(
        "warn",
        "{name}，你已经很久没在{group}发言了。来打个招呼吧，否则你的名额将留给新成员。",
        "{name}, you have not spoken in {group} for a long time. Say hello, or your place will go to someone new.",
    ),
    Text::new(
        "welcome_back",
        "欢迎回来，{name}！很高兴又见到你。",
        "Welcome back, {name}! Good to hear from you.",
    ),
    Text::new(
        "removal_reason",
        "已连续 {days} 天未发言",
        "silent for {days} days",
    ),
];

/// A DM from its configured template (`legacy`, the older per-message key)
/// or, when that is empty, from `texts.<key>`; {name} and {group} filled.
pub fn render(cfg: &Config, legacy: &str, key: &str, name: &str, group: &str) -> String {
    let template = if legacy.is_empty() {
        cfg.texts().template(key)
    } else {
        legacy
    };
    kith_plugin_util::text::fill(template, &[("name", &name), ("group", &group)])
}

pub fn removal_reason(cfg: &Config, silent_ms: i64) -> String {
    let days = silent_ms.max(0) / DAY_MS;
    cfg.texts().render("removal_reason", &[("days", &days)])
}

pub use kith_plugin_util::next_local_hour;

#[cfg(test)]
mod tests {
    use super::*;

    fn st(stage: Stage, at: i64) -> State {
        State { stage, at }
    }

    #[test]
    fn defaults_and_schema() {
        let c: Config = kith_plugin_util::parse_config("{}").unwrap();
        assert_eq!(c, Config::default());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 9);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(props["warn_after_days"]["default"], 7);
        let c: Config = kith_plugin_util::parse_config(r#"{"warn_after_days": null}"#).unwrap();
        assert_eq!(c.warn_after_days, None);
        let bad: Config = kith_plugin_util::parse_config(r#"{"scan_hour": 24}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn invite_warn_remove() {
        let c = Config::default();
        let t = 100 * DAY_MS;
        assert_eq!(next_step(None, t, &c), Step::Invite);
        let invited = st(Stage::Invited, t);
        assert_eq!(next_step(Some(&invited), t + 6 * DAY_MS, &c), Step::Wait);
        assert_eq!(next_step(Some(&invited), t + 7 * DAY_MS, &c), Step::Warn);
        let warned = st(Stage::Warned, t + 7 * DAY_MS);
        assert_eq!(next_step(Some(&warned), t + 13 * DAY_MS, &c), Step::Wait);
        assert_eq!(next_step(Some(&warned), t + 14 * DAY_MS, &c), Step::Remove);
    }

    #[test]
    fn steps_are_configurable() {
        let t = 100 * DAY_MS;
        let no_warn = Config {
            warn_after_days: None,
            remove_after_days: Some(3),
            ..Config::default()
        };
        let invited = st(Stage::Invited, t);
        assert_eq!(
            next_step(Some(&invited), t + 2 * DAY_MS, &no_warn),
            Step::Wait
        );
        assert_eq!(
            next_step(Some(&invited), t + 3 * DAY_MS, &no_warn),
            Step::Remove
        );
        let never = Config {
            remove_after_days: None,
            ..Config::default()
        };
        let warned = st(Stage::Warned, t);
        assert_eq!(
            next_step(Some(&warned), t + 999 * DAY_MS, &never),
            Step::Wait
        );
        let only_invite = Config {
            warn_after_days: None,
            remove_after_days: None,
            ..Config::default()
        };
        assert_eq!(
            next_step(Some(&invited), t + 999 * DAY_MS, &only_invite),
            Step::Wait
        );
    }

    #[test]
    fn texts_and_times() {
        let zh = Config::default();
        assert_eq!(
            render(&zh, "Hi {name}, {group} {name}", "invite", "Amy", "Tea"),
            "Hi Amy, Tea Amy"
        );
        assert_eq!(
            render(&zh, "", "welcome_back", "Amy", "Tea"),
            "欢迎回来，Amy！很高兴又见到你。"
        );
        assert_eq!(removal_reason(&zh, 15 * DAY_MS + 5), "已连续 15 天未发言");
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(
            render(&en, "", "invite", "Amy", "Tea"),
            "Hi Amy, we miss you in Tea! Drop by and tell us what you are up to."
        );
        assert_eq!(removal_reason(&en, 15 * DAY_MS + 5), "silent for 15 days");
        // 2026-03-01 00:30 Shanghai → 10:00 Shanghai the same day.
        assert_eq!(
            next_local_hour(1_772_296_200_000, 480, 10),
            1_772_326_800_000 + 3_600_000
        );
    }
}
