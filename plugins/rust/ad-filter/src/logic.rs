//! Host-independent rules of the ad filter, unit-tested natively.

use crate::spam;
use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub blocked_words: Vec<String>,
    pub block_links: bool,
    pub allowed_domains: Vec<String>,
    pub exempt_roles: Vec<String>,
    pub warnings_before_removal: u32,
    pub warning_ttl_days: u32,
    /// Accepted so alliance configs validate; sharing bans across groups
    /// needs storage that spans groups, which the host does not offer yet.
    pub shared_ban_key: Option<String>,
    pub block_phone_numbers: bool,
    pub block_wechat_ids: bool,
    pub wechat_markers: Vec<String>,
    pub block_qr_codes: bool,
    pub qr_markers: Vec<String>,
    pub repeat_threshold: u32,
    pub repeat_window_minutes: u32,
    pub repeat_min_chars: u32,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            blocked_words: vec![
                "加微信".into(),
                "代理".into(),
                "兼职日结".into(),
                "free money".into(),
            ],
            block_links: true,
            allowed_domains: vec![],
            exempt_roles: vec!["owner".into(), "admin".into()],
            warnings_before_removal: 3,
            warning_ttl_days: 30,
            shared_ban_key: None,
            block_phone_numbers: true,
            block_wechat_ids: true,
            wechat_markers: [
                "微信", "薇信", "威信", "v信", "vx", "wx", "加v", "weixin", "wechat",
            ]
            .map(String::from)
            .to_vec(),
            block_qr_codes: true,
            qr_markers: vec!["[qr]".into(), "[二维码]".into()],
            repeat_threshold: 3,
            repeat_window_minutes: 60,
            repeat_min_chars: 6,
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
        if self.warnings_before_removal < 1 {
            return Err("config: warnings_before_removal must be at least 1".into());
        }
        if self.warning_ttl_days < 1 {
            return Err("config: warning_ttl_days must be at least 1".into());
        }
        Ok(self)
    }

    pub fn is_exempt(&self, role: &str) -> bool {
        self.exempt_roles.iter().any(|r| r == role)
    }
}

pub fn config_schema() -> String {
    let strings =
        json!({"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true});
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "blocked_words",
                "Words or phrases that get a message deleted (case-insensitive substring match).",
                strings.clone(),
            ),
            (
                "block_links",
                "Delete messages that contain links to domains not in allowed_domains.",
                json!({"type": "boolean"}),
            ),
            (
                "allowed_domains",
                "Domains (and their subdomains) members may link to.",
                strings.clone(),
            ),
            (
                "exempt_roles",
                "Roles whose messages are never filtered.",
                json!({"type": "array", "uniqueItems": true, "items": {"enum": ["owner", "admin", "core", "partner", "vip", "member"]}}),
            ),
            (
                "warnings_before_removal",
                "Live warnings at which the member is removed instead of warned.",
                json!({"type": "integer", "minimum": 1, "maximum": 100}),
            ),
            (
                "warning_ttl_days",
                "Days after which a warning no longer counts.",
                json!({"type": "integer", "minimum": 1, "maximum": 3650}),
            ),
            (
                "shared_ban_key",
                "Reserved for alliance-wide ban lists; not used yet.",
                json!({"type": ["string", "null"]}),
            ),
            (
                "block_phone_numbers",
                "Delete messages with a mainland mobile number (also with spaces, dashes or full-width digits).",
                json!({"type": "boolean"}),
            ),
            (
                "block_wechat_ids",
                "Delete messages that advertise a WeChat id: a marker from wechat_markers followed by an id.",
                json!({"type": "boolean"}),
            ),
            (
                "wechat_markers",
                "Words announcing a WeChat id (case-insensitive), e.g. 微信, VX, 加V.",
                strings.clone(),
            ),
            (
                "block_qr_codes",
                "Delete images the adapter marked as QR codes (kind image, a qr_markers marker in the text).",
                json!({"type": "boolean"}),
            ),
            (
                "qr_markers",
                "Markers an adapter writes into an image's text when it decoded a QR code in it.",
                strings.clone(),
            ),
            (
                "repeat_threshold",
                "Delete a message once this many different members sent the same text within repeat_window_minutes (0: off).",
                json!({"type": "integer", "minimum": 0, "maximum": 1000}),
            ),
            (
                "repeat_window_minutes",
                "How long identical messages count towards repeat_threshold.",
                json!({"type": "integer", "minimum": 1, "maximum": 10080}),
            ),
            (
                "repeat_min_chars",
                "Shorter messages (without spaces) are never counted as repeats: greetings repeat innocently.",
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            ),
        ],
        TEXTS,
    )
}

pub fn warn_key(member: &str) -> String {
    format!("warn:{member}")
}

/// The host part of a URL, lower-cased, without scheme, credentials or port.
pub fn host_of(link: &str) -> String {
    let lower = link.trim().to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    host.split(':')
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string()
}

/// `www.example.com` and `shop.example.com` are covered by `example.com`;
/// `badexample.com` is not.
pub fn domain_allowed(host: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|d| {
        let d = d.trim().trim_start_matches("*.").to_lowercase();
        !d.is_empty() && (host == d || host.ends_with(&format!(".{d}")))
    })
}

/// Everything the filter says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "link_not_allowed",
        "不允许发链接（{domain}）",
        "links are not allowed ({domain})",
    ),
    Text::new(
        "blocked_word",
        "包含违禁词“{word}”",
        "blocked word \"{word}\"",
    ),
    Text::new("phone_number", "包含手机号", "phone number"),
    Text::new("wechat_id", "包含微信号", "WeChat id"),
    Text::new("qr_code", "包含二维码", "QR code"),
    Text::new(
        "repeated",
        "与另外 {others} 位成员发送了相同的消息",
        "the same message as {others} other members",
    ),
    Text::new(
        "warning",
        "警告 {count}/{max}：你的消息已被删除，原因：{reason}。",
        "Warning {count}/{max}: your message was deleted: {reason}.",
    ),
    Text::new(
        "removal_reason",
        "累计 {count} 次警告，最近一次：{reason}",
        "{count} warnings, last: {reason}",
    ),
    Text::new(
        "removed",
        "{member} 因累计 {count} 次警告已被移出本群",
        "{member} was removed after {count} warnings",
    ),
];

/// Why a message must go, or None when it may stay.
pub fn offence(text: &str, links: &[String], cfg: &Config) -> Option<String> {
    if cfg.block_links {
        if let Some(link) = links
            .iter()
            .find(|l| !domain_allowed(&host_of(l), &cfg.allowed_domains))
        {
            let domain = host_of(link);
            return Some(
                cfg.texts()
                    .render("link_not_allowed", &[("domain", &domain)]),
            );
        }
    }
    let lower = text.to_lowercase();
    if let Some(w) = cfg
        .blocked_words
        .iter()
        .find(|w| !w.trim().is_empty() && lower.contains(&w.to_lowercase()))
    {
        return Some(cfg.texts().render("blocked_word", &[("word", w)]));
    }
    if cfg.block_phone_numbers && spam::has_phone_number(text) {
        return Some(cfg.texts().render("phone_number", &[]));
    }
    if cfg.block_wechat_ids && spam::wechat_id(text, &cfg.wechat_markers).is_some() {
        return Some(cfg.texts().render("wechat_id", &[]));
    }
    None
}

/// Why an image must go: a QR code, as the adapter marks it.
pub fn image_offence(is_image: bool, text: &str, cfg: &Config) -> Option<String> {
    (cfg.block_qr_codes && spam::is_qr_image(is_image, text, &cfg.qr_markers))
        .then(|| cfg.texts().render("qr_code", &[]))
}

/// The key of the recent messages kept to spot repeats.
pub const RECENT_KEY: &str = "recent";

/// Remembers a message in `recent`; why it must go when enough other
/// members sent the same text lately.
pub fn repeat_offence(
    recent: &mut Vec<spam::Seen>,
    text: &str,
    sender: &str,
    now: i64,
    cfg: &Config,
) -> Option<String> {
    if cfg.repeat_threshold == 0 {
        return None;
    }
    let hash = spam::fingerprint(text, cfg.repeat_min_chars)?;
    let window = i64::from(cfg.repeat_window_minutes) * 60_000;
    let others = spam::remember(recent, hash, sender, now, window);
    (others + 1 >= cfg.repeat_threshold as usize)
        .then(|| cfg.texts().render("repeated", &[("others", &others)]))
}

#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Warn; `count` live warnings including this one.
    Warn {
        warnings: Vec<i64>,
        count: u32,
    },
    Remove {
        count: u32,
    },
}

/// Records an offence at `now`: expired warnings (older than the TTL) are
/// dropped first, so only recent behaviour leads to removal.
pub fn record(previous: &[i64], now: i64, cfg: &Config) -> Verdict {
    let ttl = i64::from(cfg.warning_ttl_days) * DAY_MS;
    let mut warnings: Vec<i64> = previous.iter().copied().filter(|t| now - t < ttl).collect();
    warnings.push(now);
    let count = u32::try_from(warnings.len()).unwrap_or(u32::MAX);
    if count >= cfg.warnings_before_removal {
        Verdict::Remove { count }
    } else {
        Verdict::Warn { warnings, count }
    }
}

pub fn warning_message(count: u32, cfg: &Config, reason: &str) -> String {
    cfg.texts().render(
        "warning",
        &[
            ("count", &count),
            ("max", &cfg.warnings_before_removal),
            ("reason", &reason),
        ],
    )
}

pub fn removal_reason(cfg: &Config, count: u32, reason: &str) -> String {
    cfg.texts()
        .render("removal_reason", &[("count", &count), ("reason", &reason)])
}

pub fn removed_message(cfg: &Config, name: &str, count: u32) -> String {
    cfg.texts()
        .render("removed", &[("member", &name), ("count", &count)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_by_default() {
        let c = Config::default();
        assert_eq!(offence("加微信", &[], &c).unwrap(), "包含违禁词“加微信”");
        assert_eq!(
            warning_message(1, &c, "包含违禁词“加微信”"),
            "警告 1/3：你的消息已被删除，原因：包含违禁词“加微信”。"
        );
        assert_eq!(
            removed_message(&c, "Amy", 3),
            "Amy 因累计 3 次警告已被移出本群"
        );
    }

    #[test]
    fn defaults_and_schema() {
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.is_exempt("admin") && !c.is_exempt("member"));
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 17);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(props["warnings_before_removal"]["default"], 3);
        assert_eq!(props["shared_ban_key"]["default"], serde_json::Value::Null);
        let bad: Config =
            kith_plugin_util::parse_config(r#"{"warnings_before_removal": 0}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn hosts_and_allowed_domains() {
        assert_eq!(host_of("https://Shop.Example.com/x?y"), "shop.example.com");
        assert_eq!(host_of("http://u:p@spam.example:8080/"), "spam.example");
        assert_eq!(host_of("www.foo.cn"), "www.foo.cn");
        let allowed = vec!["example.com".to_string()];
        assert!(domain_allowed("example.com", &allowed));
        assert!(domain_allowed("www.example.com", &allowed));
        assert!(!domain_allowed("badexample.com", &allowed));
        assert!(!domain_allowed("example.com.evil.io", &allowed));
    }

    #[test]
    fn offences() {
        let c = Config {
            language: Language::En,
            ..Config::default()
        };
        let links = vec!["http://spam.example/buy".to_string()];
        assert_eq!(
            offence("see http://spam.example/buy", &links, &c).unwrap(),
            "links are not allowed (spam.example)"
        );
        assert_eq!(
            offence("FREE Money here", &[], &c).unwrap(),
            "blocked word \"free money\""
        );
        assert_eq!(
            offence("有兴趣的加微信", &[], &c).unwrap(),
            "blocked word \"加微信\""
        );
        assert_eq!(offence("hello all", &[], &c), None);
        let open = Config {
            block_links: false,
            ..Config::default()
        };
        assert_eq!(offence("x", &links, &open), None);
        let allow = Config {
            allowed_domains: vec!["spam.example".into()],
            ..Config::default()
        };
        assert_eq!(offence("x", &links, &allow), None);
    }

    #[test]
    fn warnings_expire_and_lead_to_removal() {
        let c = Config {
            language: Language::En,
            ..Config::default()
        };
        let day = DAY_MS;
        assert_eq!(
            record(&[], 10 * day, &c),
            Verdict::Warn {
                warnings: vec![10 * day],
                count: 1
            }
        );
        assert_eq!(
            record(&[10 * day], 11 * day, &c),
            Verdict::Warn {
                warnings: vec![10 * day, 11 * day],
                count: 2
            }
        );
        assert_eq!(
            record(&[10 * day, 11 * day], 12 * day, &c),
            Verdict::Remove { count: 3 }
        );
        // 30 days later the first two no longer count.
        assert_eq!(
            record(&[10 * day, 11 * day], 41 * day, &c),
            Verdict::Warn {
                warnings: vec![41 * day],
                count: 1
            }
        );
    }

    #[test]
    fn texts() {
        let c = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(
            warning_message(1, &c, "blocked word \"代理\""),
            "Warning 1/3: your message was deleted: blocked word \"代理\"."
        );
        assert_eq!(
            removed_message(&c, "Amy", 3),
            "Amy was removed after 3 warnings"
        );
    }
}
