//! Host-independent rules of the invite-only gate, unit-tested natively.

use kith_plugin_util::{Clock, Language, Overrides, SplitMix64, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// No 0/O or 1/I: codes are read aloud and retyped from screenshots.
pub const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 8;
/// Bounded so a pathological store (or a host returning every key as taken)
/// cannot spin the handler until its fuel runs out.
pub const MAX_CODE_DRAWS: usize = 32;

pub const ROLES: [&str; 6] = ["owner", "admin", "core", "partner", "vip", "member"];

/// Message keys of the rejections, in [`TEXTS`].
pub const REJECT_NO_CODE: &str = "reject_no_code";
pub const REJECT_UNKNOWN: &str = "reject_unknown";
pub const REJECT_EXPIRED: &str = "reject_expired";
pub const REJECT_USED_UP: &str = "reject_used_up";

/// Everything the gate says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "issued",
        "你的邀请码：{code}。可邀请 {uses} 人，有效期至 {expires}。",
        "Your invite code: {code} (up to {uses} uses, valid until {expires})",
    ),
    Text::new(
        "not_allowed",
        "只有{roles}可以生成邀请码。",
        "Only {roles} can issue invite codes.",
    ),
    Text::new(
        "not_issued",
        "本群不发放邀请码。",
        "Invite codes are not issued in this group.",
    ),
    Text::new(
        REJECT_NO_CODE,
        "加入本群需要邀请码",
        "an invite code is required to join this group",
    ),
    Text::new(REJECT_UNKNOWN, "邀请码无效", "unknown invite code"),
    Text::new(REJECT_EXPIRED, "邀请码已过期", "invite code expired"),
    Text::new(
        REJECT_USED_UP,
        "邀请码的使用次数已用完",
        "invite code has no uses left",
    ),
    Text::new(
        "admitted",
        "由 {inviter} 邀请（邀请码 {code}）",
        "invited by {inviter} with code {code}",
    ),
];

const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub issuer_roles: Vec<String>,
    pub max_uses: u32,
    pub ttl_hours: u32,
    pub command: String,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer_roles: vec!["owner".into(), "admin".into(), "core".into()],
            max_uses: 5,
            ttl_hours: 72,
            command: "/invite".into(),
            language: Language::default(),
            texts: Overrides::new(),
        }
    }
}

impl Config {
    /// The host validates against the schema, but the plugin still refuses
    /// values that would make codes unusable from birth.
    pub fn validate(self) -> Result<Self, String> {
        if self.max_uses < 1 {
            return Err("config: max_uses must be at least 1".into());
        }
        if self.ttl_hours < 1 {
            return Err("config: ttl_hours must be at least 1".into());
        }
        kith_plugin_util::check_overrides(TEXTS, &self.texts)?;
        Ok(self)
    }

    /// The gate's messages in the configured language.
    pub fn texts(&self) -> Texts<'_> {
        Texts::new(TEXTS, self.language, &self.texts)
    }

    pub fn may_issue(&self, role: &str) -> bool {
        self.issuer_roles.iter().any(|r| r == role)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "issuer_roles",
                "Roles whose members may create invite codes with the command.",
                json!({"type": "array", "items": {"type": "string", "enum": ROLES}, "uniqueItems": true}),
            ),
            (
                "max_uses",
                "How many applicants one code admits.",
                json!({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
            ),
            (
                "ttl_hours",
                "Hours a code stays valid after it is issued.",
                json!({"type": "integer", "minimum": 1, "maximum": 87_600}),
            ),
            (
                "command",
                "Chat message that asks for a new invite code.",
                json!({"type": "string", "minLength": 1}),
            ),
        ],
        TEXTS,
    )
}

/// Stored at `code:<CODE>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteCode {
    pub inviter: String,
    pub uses: u32,
    pub max_uses: u32,
    pub expires_at: i64,
}

pub fn code_key(code: &str) -> String {
    format!("code:{code}")
}

/// One draw gives one code: 8 characters x 5 bits use 40 of the 64 bits.
pub fn code_from_bits(bits: u64) -> String {
    (0..CODE_LEN)
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// Draws codes from the event's seed until one is free, so a replayed event
/// yields the same code.
pub fn draw_code(seed: u64, mut taken: impl FnMut(&str) -> bool) -> Result<String, String> {
    let mut rng = SplitMix64::new(seed);
    for _ in 0..MAX_CODE_DRAWS {
        let code = code_from_bits(rng.next_u64());
        if !taken(&code) {
            return Ok(code);
        }
    }
    Err(format!(
        "could not find a free invite code in {MAX_CODE_DRAWS} draws"
    ))
}

pub fn new_code(cfg: &Config, inviter: &str, now: i64) -> InviteCode {
    InviteCode {
        inviter: inviter.to_string(),
        uses: 0,
        max_uses: cfg.max_uses,
        expires_at: now.saturating_add(i64::from(cfg.ttl_hours) * HOUR_MS),
    }
}

pub fn issued_message(t: &Texts, clock: &Clock, code: &str, rec: &InviteCode) -> String {
    t.render(
        "issued",
        &[
            ("code", &code),
            ("uses", &rec.max_uses),
            ("expires", &t.time(clock, rec.expires_at)),
        ],
    )
}

pub fn not_allowed_message(t: &Texts, roles: &[String]) -> String {
    if roles.is_empty() {
        return t.render("not_issued", &[]);
    }
    let labels: Vec<String> = roles
        .iter()
        .map(|r| kith_plugin_util::role_label(r, t.language()))
        .collect();
    let roles = kith_plugin_util::join_or(&labels, t.language());
    t.render("not_allowed", &[("roles", &roles)])
}

/// Applicants type codes by hand: ignore surrounding space and case.
/// `None` means no code was given at all.
pub fn normalize_code(input: Option<&str>) -> Option<String> {
    let code = input?.trim();
    (!code.is_empty()).then(|| code.to_uppercase())
}

/// Anything that could not have been issued is unknown without asking
/// storage, which also keeps arbitrary applicant text out of storage keys.
pub fn is_well_formed(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))
}

#[derive(Debug, PartialEq)]
pub enum JoinCheck {
    Reject(&'static str),
    /// `record` already has the use counted and must be stored.
    Admit {
        code: String,
        record: InviteCode,
    },
}

pub fn check_join(
    input: Option<&str>,
    now: i64,
    lookup: impl FnOnce(&str) -> Result<Option<InviteCode>, String>,
) -> Result<JoinCheck, String> {
    let Some(code) = normalize_code(input) else {
        return Ok(JoinCheck::Reject(REJECT_NO_CODE));
    };
    if !is_well_formed(&code) {
        return Ok(JoinCheck::Reject(REJECT_UNKNOWN));
    }
    let Some(mut record) = lookup(&code)? else {
        return Ok(JoinCheck::Reject(REJECT_UNKNOWN));
    };
    if now > record.expires_at {
        return Ok(JoinCheck::Reject(REJECT_EXPIRED));
    }
    if record.uses >= record.max_uses {
        return Ok(JoinCheck::Reject(REJECT_USED_UP));
    }
    record.uses += 1;
    Ok(JoinCheck::Admit { code, record })
}

pub fn admit_reason(t: &Texts, code: &str, rec: &InviteCode) -> String {
    t.render("admitted", &[("inviter", &rec.inviter), ("code", &code)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn defaults_and_validation() {
        let c: Config = kith_plugin_util::parse_config("{}").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.may_issue("core") && !c.may_issue("member"));
        let c: Config = kith_plugin_util::parse_config(r#"{"max_uses": 0}"#).unwrap();
        assert!(c.validate().is_err());
        assert!(kith_plugin_util::parse_config::<Config>(r#"{"bogus": 1}"#).is_err());
    }

    #[test]
    fn schema_lists_every_property_with_default() {
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 6);
        assert_eq!(props["language"]["default"], "zh-CN");
        assert_eq!(
            props["texts"]["properties"].as_object().unwrap().len(),
            TEXTS.len()
        );
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k} has no description");
        }
        assert_eq!(
            props["issuer_roles"]["default"],
            json!(["owner", "admin", "core"])
        );
        assert_eq!(props["ttl_hours"]["default"], 72);
    }

    #[test]
    fn codes_are_deterministic_and_in_alphabet() {
        let a = draw_code(7, |_| false).unwrap();
        let b = draw_code(7, |_| false).unwrap();
        assert_eq!(a, b);
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, draw_code(8, |_| false).unwrap());
        assert_eq!(code_from_bits(0), "AAAAAAAA");
        assert_eq!(code_from_bits(u64::MAX), "99999999");
    }

    #[test]
    fn taken_codes_are_skipped_with_the_next_draw() {
        let first = draw_code(99, |_| false).unwrap();
        let second = draw_code(99, |c| c == first).unwrap();
        assert_ne!(first, second);
        // The retry is the stream's next draw, not a fresh reseed.
        let mut rng = SplitMix64::new(99);
        rng.next_u64();
        assert_eq!(second, code_from_bits(rng.next_u64()));
        assert!(draw_code(99, |_| true).is_err());
    }

    #[test]
    fn many_seeds_give_distinct_codes() {
        let codes: HashSet<String> = (0..1000)
            .map(|s| draw_code(s, |_| false).unwrap())
            .collect();
        assert_eq!(codes.len(), 1000);
    }

    #[test]
    fn new_code_expiry() {
        let rec = new_code(&Config::default(), "alice", 1_000);
        assert_eq!(rec.expires_at, 1_000 + 72 * 3_600_000);
        assert_eq!((rec.uses, rec.max_uses), (0, 5));
        assert_eq!(
            serde_json::to_value(&rec).unwrap(),
            json!({"inviter": "alice", "uses": 0, "max_uses": 5, "expires_at": 259_201_000i64})
        );
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let clock = Clock::default();
        assert_eq!(
            issued_message(&en.texts(), &clock, "ABCDEFGH", &rec),
            "Your invite code: ABCDEFGH (up to 5 uses, valid until 4 Jan 1970 00:00)"
        );
        let shanghai = Clock {
            utc_offset_minutes: 480,
            timezone: "Asia/Shanghai".into(),
        };
        assert_eq!(
            issued_message(&Config::default().texts(), &shanghai, "ABCDEFGH", &rec),
            "你的邀请码：ABCDEFGH。可邀请 5 人，有效期至 1970年1月4日 08:00（Asia/Shanghai）。"
        );
    }

    #[test]
    fn not_allowed_lists_roles() {
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let (t, d) = (en.texts(), &en.issuer_roles);
        assert_eq!(
            not_allowed_message(&t, d),
            "Only owner, admin or core can issue invite codes."
        );
        assert_eq!(
            not_allowed_message(&t, &d[..1]),
            "Only owner can issue invite codes."
        );
        assert!(not_allowed_message(&t, &[]).contains("not issued"));
        assert_eq!(
            not_allowed_message(&Config::default().texts(), d),
            "只有群主、管理员或核心成员可以生成邀请码。"
        );
    }

    fn rec(uses: u32, max_uses: u32, expires_at: i64) -> InviteCode {
        InviteCode {
            inviter: "alice".into(),
            uses,
            max_uses,
            expires_at,
        }
    }

    fn never_called(_: &str) -> Result<Option<InviteCode>, String> {
        panic!("storage must not be consulted")
    }

    #[test]
    fn join_without_code_or_malformed_code() {
        assert_eq!(
            check_join(None, 0, never_called).unwrap(),
            JoinCheck::Reject(REJECT_NO_CODE)
        );
        assert_eq!(
            check_join(Some("  "), 0, never_called).unwrap(),
            JoinCheck::Reject(REJECT_NO_CODE)
        );
        assert_eq!(
            check_join(Some("short"), 0, never_called).unwrap(),
            JoinCheck::Reject(REJECT_UNKNOWN)
        );
        assert_eq!(
            check_join(Some("OOOOOOOO"), 0, never_called).unwrap(),
            JoinCheck::Reject(REJECT_UNKNOWN)
        );
    }

    #[test]
    fn join_matches_case_insensitively() {
        let r = check_join(Some(" abcd2345 "), 10, |c| {
            assert_eq!(c, "ABCD2345");
            Ok(Some(rec(1, 5, 10)))
        })
        .unwrap();
        match r {
            JoinCheck::Admit { code, record } => {
                assert_eq!(code, "ABCD2345");
                assert_eq!(record.uses, 2);
                assert_eq!(
                    admit_reason(&Config::default().texts(), &code, &record),
                    "由 alice 邀请（邀请码 ABCD2345）"
                );
                let en = Config {
                    language: Language::En,
                    ..Config::default()
                };
                assert_eq!(
                    admit_reason(&en.texts(), &code, &record),
                    "invited by alice with code ABCD2345"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn join_rejections() {
        let c = Some("ABCD2345");
        assert_eq!(
            check_join(c, 0, |_| Ok(None)).unwrap(),
            JoinCheck::Reject(REJECT_UNKNOWN)
        );
        // Valid up to and including expires_at.
        assert!(matches!(
            check_join(c, 100, |_| Ok(Some(rec(0, 1, 100)))).unwrap(),
            JoinCheck::Admit { .. }
        ));
        assert_eq!(
            check_join(c, 101, |_| Ok(Some(rec(0, 1, 100)))).unwrap(),
            JoinCheck::Reject(REJECT_EXPIRED)
        );
        assert_eq!(
            check_join(c, 0, |_| Ok(Some(rec(5, 5, 100)))).unwrap(),
            JoinCheck::Reject(REJECT_USED_UP)
        );
        assert!(check_join(c, 0, |_| Err("boom".into())).is_err());
    }
}
