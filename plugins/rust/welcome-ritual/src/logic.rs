//! Host-independent rules of the welcome ritual, unit-tested natively.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const TIMER_PREFIX: &str = "welcome:";
pub const DEFAULT_RULES: &str = "be kind, no ads";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub delay_seconds: u32,
    pub message: String,
    /// None: the group settings' "rules", else `DEFAULT_RULES`.
    pub rules: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            delay_seconds: 30,
            message: "Welcome {mention}! Please read the group rules: {rules}".into(),
            rules: None,
        }
    }
}

impl Config {
    pub fn validate(self) -> Result<Self, String> {
        if self.delay_seconds > 86_400 {
            return Err("config: delay_seconds must be at most 86400".into());
        }
        if self.message.trim().is_empty() {
            return Err("config: message must not be empty".into());
        }
        Ok(self)
    }

    /// The rules to quote: the config's, else the group's settings JSON.
    pub fn rules(&self, group_settings: &str) -> String {
        if let Some(r) = self.rules.as_deref().filter(|r| !r.trim().is_empty()) {
            return r.to_string();
        }
        serde_json::from_str::<Value>(group_settings)
            .ok()
            .and_then(|v| v.get("rules").and_then(Value::as_str).map(str::to_string))
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_RULES.to_string())
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema::<Config>(&[
        (
            "delay_seconds",
            "Seconds between joining and the welcome post.",
            json!({"type": "integer", "minimum": 0, "maximum": 86400}),
        ),
        (
            "message",
            "The welcome text; {mention} becomes @<display name>, {name} the display name, {rules} the rules.",
            json!({"type": "string", "minLength": 1}),
        ),
        (
            "rules",
            "The group rules to quote; null takes \"rules\" from the group settings, else \"be kind, no ads\".",
            json!({"type": ["string", "null"]}),
        ),
    ])
}

pub fn timer_name(member: &str) -> String {
    format!("{TIMER_PREFIX}{member}")
}

pub fn welcome_text(template: &str, display_name: &str, rules: &str) -> String {
    // {rules} last, so rules that happen to contain "{mention}" stay literal.
    template
        .replace("{mention}", &format!("@{display_name}"))
        .replace("{name}", display_name)
        .replace("{rules}", rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_schema() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.clone().validate().is_ok());
        let v: Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 3);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k}");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(props["delay_seconds"]["default"], 30);
        assert_eq!(props["rules"]["default"], Value::Null);
        let bad: Config = kith_plugin_util::parse_config(r#"{"message": " "}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn rules_come_from_config_then_settings_then_default() {
        let c = Config::default();
        assert_eq!(c.rules(r#"{"rules": "no spam"}"#), "no spam");
        assert_eq!(c.rules("{}"), DEFAULT_RULES);
        assert_eq!(c.rules("not json"), DEFAULT_RULES);
        assert_eq!(c.rules(r#"{"rules": 3}"#), DEFAULT_RULES);
        let c = Config {
            rules: Some("photos only".into()),
            ..Config::default()
        };
        assert_eq!(c.rules(r#"{"rules": "no spam"}"#), "photos only");
    }

    #[test]
    fn text_replaces_placeholders() {
        assert_eq!(
            welcome_text(&Config::default().message, "Amy", "be kind"),
            "Welcome @Amy! Please read the group rules: be kind"
        );
        assert_eq!(
            welcome_text("Hi {name}: {rules}", "Amy", "say {mention}"),
            "Hi Amy: say {mention}"
        );
        assert_eq!(timer_name("u1"), "welcome:u1");
    }
}
