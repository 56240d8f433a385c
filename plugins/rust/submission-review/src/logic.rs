//! Host-independent rules of the submission-review gate, unit-tested natively.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const ROLES: [&str; 6] = ["owner", "admin", "core", "partner", "vip", "member"];
pub const PENDING_REASON: &str = "submission received; awaiting review";
pub const NOT_A_REVIEWER: &str = "only reviewers can decide applications";
/// How much of a submission the review request quotes in the group.
pub const EXCERPT_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reviewer_roles: Vec<String>,
    pub prompt: String,
    pub min_length: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reviewer_roles: vec!["owner".into(), "admin".into()],
            prompt: "Tell us about yourself and share a sample of your work.".into(),
            min_length: 10,
        }
    }
}

impl Config {
    pub fn validate(self) -> Result<Self, String> {
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
    kith_plugin_util::config_schema::<Config>(&[
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
    ])
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
    format!("{} (at least {} characters)", cfg.prompt, cfg.min_length)
}

pub fn review_request(name: &str, member: &str, text: &str) -> String {
    let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    format!(
        "New application from {name}: {excerpt}. Reply /approve {member} or /decline {member} <reason>"
    )
}

pub fn approve_reason(reviewer: &str) -> String {
    format!("approved by {reviewer}")
}

pub fn default_decline_reason(reviewer: &str) -> String {
    format!("declined by {reviewer}")
}

pub fn nothing_to_review(member: &str) -> String {
    format!("no application from {member} is awaiting review")
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
        assert_eq!(props.len(), 3);
        assert_eq!(
            props["reviewer_roles"]["default"],
            json!(["owner", "admin"])
        );
        assert_eq!(props["min_length"]["default"], 10);
        assert_eq!(
            props["prompt"]["default"],
            "Tell us about yourself and share a sample of your work."
        );
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
            "Tell us about yourself and share a sample of your work. (at least 10 characters)"
        );
    }

    #[test]
    fn review_request_quotes_200_chars() {
        let long = "x".repeat(300);
        let msg = review_request("Amy", "amy", &long);
        assert_eq!(
            msg,
            format!(
                "New application from Amy: {}. Reply /approve amy or /decline amy <reason>",
                "x".repeat(200)
            )
        );
        assert_eq!(
            review_request("Amy", "amy", "hello"),
            "New application from Amy: hello. Reply /approve amy or /decline amy <reason>"
        );
    }

    #[test]
    fn commands() {
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
        assert_eq!(approve_reason("Ada"), "approved by Ada");
        assert_eq!(default_decline_reason("Ada"), "declined by Ada");
    }
}
