//! Host-independent rules of the group buy (一元拼团), unit-tested natively.

use kith_plugin_util::{Clock, Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const HOUR_MS: i64 = 3_600_000;
pub const PURPOSE_PREFIX: &str = "group-buy:";
pub const TIMER_PREFIX: &str = "deadline:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Minor units (fen) each buyer pays.
    pub price: i64,
    pub required: u32,
    pub duration_hours: u32,
    pub command: String,
    pub bought_tag: String,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            price: 100,
            required: 3,
            duration_hours: 24,
            command: "/groupbuy".into(),
            bought_tag: "bought".into(),
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
        if self.price < 1 {
            return Err("config: price must be at least 1".into());
        }
        if self.required < 1 {
            return Err("config: required must be at least 1".into());
        }
        if self.duration_hours < 1 {
            return Err("config: duration_hours must be at least 1".into());
        }
        if self.command.trim().is_empty() || self.bought_tag.trim().is_empty() {
            return Err("config: command and bought_tag must not be empty".into());
        }
        Ok(self)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "price",
                "What each buyer pays, in minor units (100 = 1 yuan).",
                json!({"type": "integer", "minimum": 1}),
            ),
            (
                "required",
                "Buyers needed before the deadline for the deal to succeed.",
                json!({"type": "integer", "minimum": 1, "maximum": 10000}),
            ),
            (
                "duration_hours",
                "Hours from opening to the deadline.",
                json!({"type": "integer", "minimum": 1, "maximum": 8760}),
            ),
            (
                "command",
                "Chat command an owner or admin uses to open a deal: `<command> <deal name>`.",
                json!({"type": "string", "minLength": 1}),
            ),
            (
                "bought_tag",
                "Tag given to the buyers of a successful deal.",
                json!({"type": "string", "minLength": 1, "maxLength": 64}),
            ),
        ],
        TEXTS,
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Succeeded,
    Failed,
}

/// Stored at `deal:<id>`. Price and head count are fixed when the deal
/// opens, so a config change never alters a deal people already paid into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub required: u32,
    pub deadline: i64,
    pub buyers: Vec<String>,
    /// (buyer, payment id) of each share paid, to refund the real payment
    /// when the deal fails (deals stored before this field have none).
    #[serde(default)]
    pub payments: Vec<(String, String)>,
    pub status: Status,
}

pub fn deal_key(id: &str) -> String {
    format!("deal:{id}")
}

pub fn escrow(id: &str) -> String {
    format!("escrow:deal-{id}")
}

pub fn timer_name(id: &str) -> String {
    format!("{TIMER_PREFIX}{id}")
}

/// The deal name of an opening command, e.g. "/groupbuy Tea set" → "Tea set".
pub fn parse_open<'a>(text: &'a str, command: &str) -> Option<&'a str> {
    let rest = text.trim().strip_prefix(command.trim())?;
    // "/groupbuyers" is not the command.
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let name = rest.trim();
    (!name.is_empty()).then_some(name)
}

pub fn open(id: &str, name: &str, now: i64, cfg: &Config) -> Deal {
    Deal {
        id: id.into(),
        name: name.chars().take(200).collect(),
        price: cfg.price,
        required: cfg.required,
        deadline: now.saturating_add(i64::from(cfg.duration_hours) * HOUR_MS),
        buyers: vec![],
        payments: vec![],
        status: Status::Open,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Join {
    /// Not taken: the money stays in the member's wallet.
    Ignore(&'static str),
    /// Take `price` into escrow; `filled` when this buyer completes the deal.
    Buy { filled: bool },
}

pub fn join(deal: &Deal, member: &str, amount: i64, now: i64) -> Join {
    if deal.status != Status::Open {
        return Join::Ignore("the deal is closed");
    }
    if now >= deal.deadline {
        return Join::Ignore("the deal's deadline has passed");
    }
    if amount < deal.price {
        return Join::Ignore("the payment is below the deal's price");
    }
    if deal.buyers.iter().any(|b| b == member) {
        return Join::Ignore("already a buyer of this deal");
    }
    Join::Buy {
        filled: deal.buyers.len() + 1 >= deal.required as usize,
    }
}

/// Everything the flow says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "announcement",
        "【拼团】{deal}，每份 {price}。{deadline} 前凑满 {required} 人即成团，否则全额退款。付款时请填写用途“{purpose}”。",
        "Group buy: {deal} at {price} each. It goes ahead when {required} people join within {hours} hours; otherwise everyone is refunded. Pay with purpose \"{purpose}\".",
    ),
    Text::new(
        "joined",
        "{deal}：已有 {buyers}/{required} 人参团。",
        "{deal}: {buyers} of {required} buyers so far.",
    ),
    Text::new(
        "succeeded",
        "拼团成功！{deal} 共 {buyers} 人参团。",
        "Group buy {deal} succeeded with {buyers} buyers!",
    ),
    Text::new(
        "failed",
        "拼团未成：{deal} 截止时只有 {buyers}/{required} 人参团，款项已全部退回。",
        "Group buy {deal} failed: {buyers} of {required} buyers by the deadline. Everyone has been refunded.",
    ),
    Text::new(
        "not_allowed",
        "只有群主或管理员可以发起拼团。",
        "Only the owner or an admin can open a group buy.",
    ),
];

pub fn yuan(minor: i64) -> String {
    kith_plugin_util::format_money(minor)
}

/// The opening post; the deadline is shown in the group's zone.
pub fn announcement(t: &Texts, clock: &Clock, deal: &Deal, hours: u32) -> String {
    let purpose = format!("{PURPOSE_PREFIX}{}", deal.id);
    t.render(
        "announcement",
        &[
            ("deal", &deal.name),
            ("price", &yuan(deal.price)),
            ("required", &deal.required),
            ("hours", &hours),
            ("deadline", &t.time(clock, deal.deadline)),
            ("purpose", &purpose),
        ],
    )
}

pub fn joined_message(t: &Texts, deal: &Deal) -> String {
    t.render(
        "joined",
        &[
            ("deal", &deal.name),
            ("buyers", &deal.buyers.len()),
            ("required", &deal.required),
        ],
    )
}

pub fn success_message(t: &Texts, deal: &Deal) -> String {
    t.render(
        "succeeded",
        &[("deal", &deal.name), ("buyers", &deal.buyers.len())],
    )
}

pub fn failed_message(t: &Texts, deal: &Deal) -> String {
    t.render(
        "failed",
        &[
            ("deal", &deal.name),
            ("buyers", &deal.buyers.len()),
            ("required", &deal.required),
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
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 7);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k} has no default");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(props["price"]["default"], 100);
        let bad: Config = kith_plugin_util::parse_config(r#"{"required": 0}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn open_command() {
        assert_eq!(
            parse_open("/groupbuy Tea set ", "/groupbuy"),
            Some("Tea set")
        );
        assert_eq!(parse_open("/groupbuy", "/groupbuy"), None);
        assert_eq!(parse_open("/groupbuy   ", "/groupbuy"), None);
        assert_eq!(parse_open("/groupbuyers x", "/groupbuy"), None);
        assert_eq!(parse_open("hi /groupbuy x", "/groupbuy"), None);
        assert_eq!(parse_open("拼团 茶具", "拼团"), Some("茶具"));
    }

    #[test]
    fn joining() {
        let cfg = Config::default();
        let mut d = open("m1", "Tea", 1_000, &cfg);
        assert_eq!(d.deadline, 1_000 + 24 * HOUR_MS);
        assert_eq!(join(&d, "a", 100, 2_000), Join::Buy { filled: false });
        assert_eq!(
            join(&d, "a", 99, 2_000),
            Join::Ignore("the payment is below the deal's price")
        );
        d.buyers = vec!["a".into(), "b".into()];
        assert_eq!(
            join(&d, "a", 100, 2_000),
            Join::Ignore("already a buyer of this deal")
        );
        assert_eq!(join(&d, "c", 500, 2_000), Join::Buy { filled: true });
        assert_eq!(
            join(&d, "c", 100, d.deadline),
            Join::Ignore("the deal's deadline has passed")
        );
        d.status = Status::Succeeded;
        assert_eq!(
            join(&d, "c", 100, 2_000),
            Join::Ignore("the deal is closed")
        );
    }

    #[test]
    fn texts() {
        assert_eq!(yuan(100), "¥1.00");
        assert_eq!(yuan(1_905), "¥19.05");
        let d = open("m1", "Tea", 0, &Config::default());
        let shanghai = Clock {
            utc_offset_minutes: 480,
            timezone: "Asia/Shanghai".into(),
        };
        assert_eq!(
            announcement(&Config::default().texts(), &shanghai, &d, 24),
            "【拼团】Tea，每份 ¥1.00。1970年1月2日 08:00（Asia/Shanghai） 前凑满 3 人即成团，否则全额退款。付款时请填写用途“group-buy:m1”。"
        );
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(
            announcement(&en.texts(), &shanghai, &d, 24),
            "Group buy: Tea at ¥1.00 each. It goes ahead when 3 people join within 24 hours; otherwise everyone is refunded. Pay with purpose \"group-buy:m1\"."
        );
        assert_eq!(escrow("m1"), "escrow:deal-m1");
        assert_eq!(timer_name("m1"), "deadline:m1");
    }
}
