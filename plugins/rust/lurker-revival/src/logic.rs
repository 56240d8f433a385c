//! Host-independent rules of lurker revival, unit-tested natively.

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
    pub dm_text: String,
    pub warn_text: String,
    /// Sent when a member with an open invitation speaks again; None: nothing.
    pub welcome_back_text: Option<String>,
    pub scan_hour: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            silent_days: 14,
            warn_after_days: Some(7),
            remove_after_days: Some(7),
            dm_text: "Hi {name}, we miss you in {group}! Drop by and tell us what you are up to."
                .into(),
            warn_text: "{name}, you have not spoken in {group} for a long time. Say hello, or \
                        your place will go to someone new."
                .into(),
            welcome_back_text: Some("Welcome back, {name}! Good to hear from you.".into()),
            scan_hour: 10,
        }
    }
}

impl Config {
    pub fn validate(self) -> Result<Self, String> {
        if self.silent_days < 1 {
            return Err("config: silent_days must be at least 1".into());
        }
        if self.scan_hour > 23 {
            return Err("config: scan_hour must be 0-23".into());
        }
        if self.dm_text.trim().is_empty() || self.warn_text.trim().is_empty() {
            return Err("config: dm_text and warn_text must not be empty".into());
        }
        Ok(self)
    }
}

pub fn config_schema() -> String {
    let days_or_null = json!({"type": ["integer", "null"], "minimum": 0, "maximum": 3650});
    let text = json!({"type": "string", "minLength": 1, "maxLength": 2000});
    kith_plugin_util::config_schema::<Config>(&[
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
            "The invitation DM; {name} and {group} are replaced.",
            text.clone(),
        ),
        (
            "warn_text",
            "The warning DM; {name} and {group} are replaced.",
            text.clone(),
        ),
        (
            "welcome_back_text",
            "DM to a member who speaks again after an invitation; null for none.",
            json!({"type": ["string", "null"], "minLength": 1, "maxLength": 2000}),
        ),
        (
            "scan_hour",
            "Local hour (0-23) of the daily scan for silent members.",
            json!({"type": "integer", "minimum": 0, "maximum": 23}),
        ),
    ])
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

pub fn render(template: &str, name: &str, group: &str) -> String {
    template.replace("{name}", name).replace("{group}", group)
}

pub fn removal_reason(silent_ms: i64) -> String {
    format!("silent for {} days", silent_ms.max(0) / DAY_MS)
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
        assert_eq!(props.len(), 7);
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
        assert_eq!(
            render("Hi {name}, {group} {name}", "Amy", "Tea"),
            "Hi Amy, Tea Amy"
        );
        assert_eq!(removal_reason(15 * DAY_MS + 5), "silent for 15 days");
        // 2026-03-01 00:30 Shanghai → 10:00 Shanghai the same day.
        assert_eq!(
            next_local_hour(1_772_296_200_000, 480, 10),
            1_772_326_800_000 + 3_600_000
        );
    }
}
