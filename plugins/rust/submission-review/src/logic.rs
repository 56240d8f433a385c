//! Host-independent rules of the submission-review gate, unit-tested natively.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const ROLES: [&str; 6] = ["owner", "admin", "core", "partner", "vip", "member"];
/// Message keys, in [`TEXTS`].
pub const PENDING_REASON: &str = "pending";
pub const NOT_A_REVIEWER: &str = "not_a_reviewer";

/// Everything the gate says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "prompt",
        "请介绍一下你自己，并附上一份作品示例。",
        "Tell us about yourself and share a sample of your work.",
    ),
    Text::new(
        "too_short",
        "{prompt}（至少 {min} 个字）",
        "{prompt} (at least {min} characters)",
    ),
    Text::new(
        "review_request",
        "收到 {member} 的入群申请：{excerpt}。回复 /approve {id} 通过，或 /decline {id} <理由> 拒绝",
        "New application from {member}: {excerpt}. Reply /approve {id} or /decline {id} <reason>",
    ),
    Text::new("approved", "{reviewer} 审核通过", "approved by {reviewer}"),
    Text::new("declined", "{reviewer} 未予通过", "declined by {reviewer}"),
    Text::new(
        "nothing_to_review",
        "没有来自 {id} 的待审核申请",
        "no application from {id} is awaiting review",
    ),
    Text::new(
        PENDING_REASON,
        "申请已收到，等待审核",
        "submission received; awaiting review",
    ),
    Text::new(
        NOT_A_REVIEWER,
        "只有审核员可以处理入群申请",
        "only reviewers can decide applications",
    ),
];
/// How much of a submission the review request quotes in the group.
pub const EXCERPT_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reviewer_roles: Vec<String>,
    /// Older spelling of `texts.prompt`; "" (the default) uses `texts`.
    pub prompt: String,
    pub min_length: u32,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reviewer_roles: vec!["owner".into(), "admin".into()],
            prompt: String::new(),
            min_length: 10,
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
        if self.reviewer_roles.is_empty() {
            return Err("config: reviewer_roles must name at least one role".into());
        }
        if let Some(bad) = self
            .reviewer_roles
            .iter()
            .find(|r| !ROLES.contains(&r.as_str()))
        {
            return Err(format!("config: unknown reviewer role {bad:?}"));
        }
        Ok(self)
    }

    pub fn may_review(&self, role: &str) -> bool {
        self.reviewer_roles.iter().any(|r| r == role)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "reviewer_roles",
            "Roles whose members decide applications with /approve and /decline in the group.",
            json!({"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string", "enum": ROLES}}),
        ),
        (
            "prompt",
            "What applicants are asked to submit; shown when a submission is missing or too short.",
            json!({"type": "string", "minLength": 1}),
        ),
        (
            "min_length",
            "Fewest characters a submission must have (surrounding spaces not counted).",
            json!({"type": "integer", "minimum": 0, "maximum": 100_000}),
        ),
    ], TEXTS)
}

/// Stored at `submission:<member>` until a reviewer decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub text: String,
    pub submitted_at: i64,
}

pub fn submission_key(member: &str) -> String {
    format!("submission:{member}")
}

/// The submission from a join request's payload: `{"submission": "..."}`.
pub fn submission_of(payload: &str) -> Option<String> {
    let v: Value = serde_json::from_str(payload).ok()?;
    Some(v.get("submission")?.as_str()?.trim().to_string())
}

pub fn long_enough(text: &str, cfg: &Config) -> bool {
    text.chars().count() >= cfg.min_length as usize
}

pub fn reject_reason(cfg: &Config) -> String {
    let t = cfg.texts();
    let prompt = if cfg.prompt.is_empty() {
        t.render("prompt", &[])
    } else {
        cfg.prompt.clone()
    };
    t.render(
        "too_short",
        &[("prompt", &prompt), ("min", &cfg.min_length)],
    )
}

pub fn review_request(t: &Texts, name: &str, member: &str, text: &str) -> String {
    let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    t.render(
        "review_request",
        &[("member", &name), ("excerpt", &excerpt), ("id", &member)],
    )
}

pub fn approve_reason(t: &Texts, reviewer: &str) -> String {
    t.render("approved", &[("reviewer", &reviewer)])
}

pub fn default_decline_reason(t: &Texts, reviewer: &str) -> String {
    t.render("declined", &[("reviewer", &reviewer)])
}

pub fn nothing_to_review(t: &Texts, member: &str) -> String {
    t.render("nothing_to_review", &[("id", &member)])
}

#[derive(Debug, PartialEq)]
pub enum Command {
    Approve {
        member: String,
    },
    Decline {
        member: String,
        reason: Option<String>,
    },
}

/// `/approve <member>` or `/decline <member> <reason...>`; anything else,
/// including a command without a member, is ordinary chat.
pub fn parse_command(text: &str) -> Option<Command> {
    let text = text.trim();
    let (cmd, rest) = text.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (member, reason) = match rest.split_once(char::is_whitespace) {
        Some((m, r)) => (m, r.trim()),
        None => (rest, ""),
    };
    if member.is_empty() {
        return None;
    }
    let member = member.to_string();
    match cmd {
        "/approve" => Some(Command::Approve { member }),
        "/decline" => Some(Command::Decline {
            member,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_schema_and_validation() {
        let c: Config = kith_plugin_util::parse_config("{}").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.may_review("admin") && !c.may_review("core"));
        let bad: Config =
            kith_plugin_util::parse_config(r#"{"reviewer_roles": ["boss"]}"#).unwrap();
        assert!(bad.validate().is_err());
        let none: Config = kith_plugin_util::parse_config(r#"{"reviewer_roles": []}"#).unwrap();
        assert!(none.validate().is_err());
        let v: Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 5);
        assert_eq!(
            props["reviewer_roles"]["default"],
            json!(["owner", "admin"])
        );
        assert_eq!(props["min_length"]["default"], 10);
        assert_eq!(props["prompt"]["default"], "");
        for (k, p) in props {
            assert!(p["description"].is_string(), "{k}");
        }
    }

    #[test]
    fn submissions_from_payload() {
        assert_eq!(
            submission_of(r#"{"submission": "  my photos  "}"#).as_deref(),
            Some("my photos")
        );
        assert_eq!(submission_of(r#"{"submission": 3}"#), None);
        assert_eq!(submission_of("null"), None);
        assert_eq!(submission_of(""), None);
        let c = Config::default();
        assert!(long_enough("0123456789", &c));
        // Characters, not bytes: ten Chinese characters are enough.
        assert!(long_enough("我拍的街头照片很好看的", &c));
        assert!(!long_enough("short", &c));
        assert_eq!(
            reject_reason(&c),
            "请介绍一下你自己，并附上一份作品示例。（至少 10 个字）"
        );
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(
            reject_reason(&en),
            "Tell us about yourself and share a sample of your work. (at least 10 characters)"
        );
    }

    #[test]
    fn review_request_quotes_200_chars() {
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let t = en.texts();
        let long = "x".repeat(300);
        let msg = review_request(&t, "Amy", "amy", &long);
        assert_eq!(
            msg,
            format!(
                "New application from Amy: {}. Reply /approve amy or /decline amy <reason>",
                "x".repeat(200)
            )
        );
        assert_eq!(
            review_request(&t, "Amy", "amy", "hello"),
            "New application from Amy: hello. Reply /approve amy or /decline amy <reason>"
        );
    }

    #[test]
    fn commands() {
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let t = en.texts();
        assert_eq!(
            parse_command(" /approve amy "),
            Some(Command::Approve {
                member: "amy".into()
            })
        );
        assert_eq!(
            parse_command("/decline  ben  blurry photos,  sorry "),
            Some(Command::Decline {
                member: "ben".into(),
                reason: Some("blurry photos,  sorry".into())
            })
        );
        assert_eq!(
            parse_command("/decline ben"),
            Some(Command::Decline {
                member: "ben".into(),
                reason: None
            })
        );
        assert_eq!(parse_command("/approve"), None);
        assert_eq!(parse_command("/approve "), None);
        assert_eq!(parse_command("/approved amy"), None);
        assert_eq!(parse_command("please /approve amy"), None);
        assert_eq!(approve_reason(&t, "Ada"), "approved by Ada");
        assert_eq!(default_decline_reason(&t, "Ada"), "declined by Ada");
    }
}
