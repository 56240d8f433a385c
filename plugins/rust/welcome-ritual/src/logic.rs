//! Host-independent rules of the welcome ritual, unit-tested natively.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const TIMER_PREFIX: &str = "welcome:";
/// Message key of the rules quoted when neither config nor settings give any.
pub const DEFAULT_RULES: &str = "default_rules";

/// Everything the plugin says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "welcome",
        "欢迎 {mention} 加入！请先阅读群规：{rules}",
        "Welcome {mention}! Please read the group rules: {rules}",
    ),
    Text::new(DEFAULT_RULES, "友善交流，禁止广告", "be kind, no ads"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub delay_seconds: u32,
    /// Older spelling of `texts.welcome`; "" (the default) uses `texts`.
    pub message: String,
    /// None: the group settings' "rules", else `DEFAULT_RULES`.
    pub rules: Option<String>,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            delay_seconds: 30,
            message: String::new(),
            rules: None,
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
        if self.delay_seconds > 86_400 {
            return Err("config: delay_seconds must be at most 86400".into());
        }
        if !self.message.is_empty() && self.message.trim().is_empty() {
            return Err("config: message must not be blank".into());
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
            .unwrap_or_else(|| self.texts().render(DEFAULT_RULES, &[]))
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "delay_seconds",
            "Seconds between joining and the welcome post.",
            json!({"type": "integer", "minimum": 0, "maximum": 86400}),
        ),
        (
            "message",
            "The welcome text; {mention} becomes @<display name>, {name} the display name, {rules} the rules. Empty: texts.welcome in the configured language.",
            json!({"type": "string"}),
        ),
        (
            "rules",
            "The group rules to quote; null takes \"rules\" from the group settings, else texts.default_rules.",
            json!({"type": ["string", "null"]}),
        ),
    ], TEXTS)
}

pub fn timer_name(member: &str) -> String {
    format!("{TIMER_PREFIX}{member}")
}

/// The welcome post: `cfg.message`, else `texts.welcome`, filled in one
/// pass, so rules that happen to contain "{mention}" stay literal.
pub fn welcome_text(cfg: &Config, display_name: &str, rules: &str) -> String {
    let t = cfg.texts();
    let template = if cfg.message.is_empty() {
        t.template("welcome")
    } else {
        &cfg.message
    };
    let mention = format!("@{display_name}");
    kith_plugin_util::text::fill(
        template,
        &[
            ("mention", &mention),
            ("name", &display_name),
            ("rules", &rules),
        ],
    )
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
        assert_eq!(props.len(), 5);
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
        assert_eq!(c.rules("{}"), "友善交流，禁止广告");
        assert_eq!(c.rules("not json"), "友善交流，禁止广告");
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(en.rules(r#"{"rules": 3}"#), "be kind, no ads");
        let c = Config {
            rules: Some("photos only".into()),
            ..Config::default()
        };
        assert_eq!(c.rules(r#"{"rules": "no spam"}"#), "photos only");
    }

    #[test]
    fn text_replaces_placeholders() {
        assert_eq!(
            welcome_text(&Config::default(), "Amy", "友善交流"),
            "欢迎 @Amy 加入！请先阅读群规：友善交流"
        );
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(
            welcome_text(&en, "Amy", "be kind"),
            "Welcome @Amy! Please read the group rules: be kind"
        );
        let mine = Config {
            message: "Hi {name}: {rules}".into(),
            ..Config::default()
        };
        assert_eq!(
            welcome_text(&mine, "Amy", "say {mention}"),
            "Hi Amy: say {mention}"
        );
        assert_eq!(timer_name("u1"), "welcome:u1");
    }
}
