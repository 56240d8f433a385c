//! Host-independent rules of the paid-entry gate, unit-tested natively.

use kith_plugin_util::{Clock, Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const PURPOSE: &str = "entry";
pub const EXPIRED_TAG: &str = "expired";
pub const APPROVE_REASON: &str = "paid entry";
pub const REFUND_REASON: &str = "entry refunded";
pub const EXPIRY_REASON: &str = "paid membership expired";
pub const TIMER_PREFIX: &str = "expire:";

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExpiry {
    Remove,
    Downgrade,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Minor units (fen): 100 = 1 yuan.
    pub price: i64,
    pub currency: String,
    /// 0 = the membership never expires.
    pub period_days: u32,
    pub on_expiry: OnExpiry,
    pub tier: String,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            price: 100,
            currency: "CNY".into(),
            period_days: 365,
            on_expiry: OnExpiry::Remove,
            tier: "member".into(),
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
        if self.currency.trim().is_empty() {
            return Err("config: currency must not be empty".into());
        }
        if self.tier.trim().is_empty() {
            return Err("config: tier must not be empty".into());
        }
        Ok(self)
    }

    pub fn price_text(&self) -> String {
        money(self.price, &self.currency)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "price",
            "Entry price in minor units (fen, cents): 100 is 1 yuan.",
            json!({"type": "integer", "minimum": 1}),
        ),
        (
            "currency",
            "Currency the price is in; payments in another currency are not accepted.",
            json!({"type": "string", "minLength": 1, "maxLength": 8}),
        ),
        (
            "period_days",
            "Days a payment buys; 0 means the membership never expires.",
            json!({"type": "integer", "minimum": 0, "maximum": 36_500}),
        ),
        (
            "on_expiry",
            "What happens when the period ends: remove the member, or keep them without the paid tier and tag them `expired`.",
            json!({"type": "string", "enum": ["remove", "downgrade"]}),
        ),
        (
            "tier",
            "Paid tier recorded on members who paid.",
            json!({"type": "string", "minLength": 1, "maxLength": 64}),
        ),
    ], TEXTS)
}

/// Everything the gate says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new("pending", "支付 {price} 即可入群", "pay {price} to join"),
    Text::new(
        "price",
        "加入{group}需支付 {price}（付款用途请填写“{purpose}”），付款后成为{tier}会员，{period}。",
        "To join {group}, pay {price} (payment purpose \"{purpose}\"); it makes you a {tier} member {period}.",
    ),
    Text::new("period_days", "有效期 {days} 天", "for {days} days"),
    Text::new("period_day", "有效期 1 天", "for 1 day"),
    Text::new("period_forever", "长期有效", "for good"),
    Text::new(
        "below_price",
        "付款 {amount} 低于入群价格 {price}",
        "payment of {amount} is below the price {price}",
    ),
    Text::new(
        "wrong_currency",
        "不接受 {currency} 付款，入群价格为 {price}",
        "payments in {currency} are not accepted; the price is {price}",
    ),
    Text::new(
        "welcome_days",
        "付款成功：{tier}会员{action}，有效期至 {until}。",
        "Payment received: {tier} membership {action} for {days} days.",
    ),
    Text::new(
        "welcome_day",
        "付款成功：{tier}会员{action}，有效期至 {until}。",
        "Payment received: {tier} membership {action} for 1 day.",
    ),
    Text::new(
        "welcome_forever",
        "付款成功：{tier}会员{action}，长期有效。",
        "Payment received: {tier} membership {action}, with no end date.",
    ),
    Text::new("confirmed", "已开通", "confirmed"),
    Text::new("renewed", "已续期", "renewed"),
    Text::new(
        "expired",
        "你的{tier}会员已到期，支付 {price} 即可续期。",
        "Your {tier} membership has expired; pay {price} to renew.",
    ),
    Text::new("already_paid", "会员费已支付", "membership already paid"),
    Text::new(
        "paid_waiting",
        "付款成功：完成其他入群步骤后即可入群。",
        "Payment received: you join once the other entry steps are done.",
    ),
];

/// `12345, "CNY"` -> `"¥123.45"`; other currencies `"123.45 USD"`.
pub fn money(minor: i64, currency: &str) -> String {
    if currency == "CNY" {
        return kith_plugin_util::format_money(minor);
    }
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

pub fn pending_reason(cfg: &Config) -> String {
    cfg.texts()
        .render("pending", &[("price", &cfg.price_text())])
}

pub fn price_message(cfg: &Config, group_name: &str) -> String {
    let t = cfg.texts();
    let period = match cfg.period_days {
        0 => t.render("period_forever", &[]),
        1 => t.render("period_day", &[]),
        n => t.render("period_days", &[("days", &n)]),
    };
    t.render(
        "price",
        &[
            ("group", &group_name),
            ("price", &cfg.price_text()),
            ("purpose", &PURPOSE),
            ("tier", &cfg.tier),
            ("period", &period),
        ],
    )
}

pub fn below_price_message(amount: i64, cfg: &Config) -> String {
    cfg.texts().render(
        "below_price",
        &[
            ("amount", &money(amount, &cfg.currency)),
            ("price", &cfg.price_text()),
        ],
    )
}

pub fn wrong_currency_message(currency: &str, cfg: &Config) -> String {
    cfg.texts().render(
        "wrong_currency",
        &[("currency", &currency), ("price", &cfg.price_text())],
    )
}

/// `until` is shown in the group's zone.
pub fn welcome_message(cfg: &Config, clock: &Clock, until: Option<i64>, renewed: bool) -> String {
    let t = cfg.texts();
    let action = t.render(if renewed { "renewed" } else { "confirmed" }, &[]);
    let key = match until {
        Some(_) if cfg.period_days == 1 => "welcome_day",
        Some(_) => "welcome_days",
        None => "welcome_forever",
    };
    let until = until.map(|at| t.time(clock, at)).unwrap_or_default();
    t.render(
        key,
        &[
            ("tier", &cfg.tier),
            ("action", &action),
            ("days", &cfg.period_days),
            ("until", &until),
        ],
    )
}

pub fn expired_message(cfg: &Config) -> String {
    cfg.texts().render(
        "expired",
        &[("tier", &cfg.tier), ("price", &cfg.price_text())],
    )
}

pub fn timer_name(member: &str) -> String {
    format!("{TIMER_PREFIX}{member}")
}

/// Where the id of the payment that bought the current period is kept: a
/// refund only ends the membership when it refunds that payment.
pub fn payment_key(member: &str) -> String {
    format!("payment:{member}")
}

/// When the membership bought now ends. A renewal while still paid extends
/// the current period instead of cutting its rest off.
pub fn paid_until(cfg: &Config, now: i64, current_until: Option<i64>) -> Option<i64> {
    if cfg.period_days == 0 {
        return None;
    }
    let start = current_until.filter(|u| *u > now).unwrap_or(now);
    Some(start.saturating_add(i64::from(cfg.period_days) * DAY_MS))
}

#[derive(Debug, PartialEq)]
pub enum PaymentCheck {
    Ignore,
    WrongCurrency,
    BelowPrice,
    Accept,
}

pub fn check_payment(cfg: &Config, purpose: &str, currency: &str, amount: i64) -> PaymentCheck {
    if purpose != PURPOSE {
        PaymentCheck::Ignore
    } else if !currency.eq_ignore_ascii_case(&cfg.currency) {
        PaymentCheck::WrongCurrency
    } else if amount < cfg.price {
        PaymentCheck::BelowPrice
    } else {
        PaymentCheck::Accept
    }
}

/// An expiry timer that finds the membership renewed past now (a timer
/// replaced too late, or an operator edit) does nothing.
pub fn is_expired(paid_until: Option<i64>, now: i64) -> bool {
    paid_until.is_some_and(|u| u <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_schema_and_validation() {
        let c: Config = kith_plugin_util::parse_config("{}").unwrap();
        assert_eq!(c, Config::default());
        let c: Config = kith_plugin_util::parse_config(r#"{"on_expiry": "downgrade"}"#).unwrap();
        assert_eq!(c.on_expiry, OnExpiry::Downgrade);
        assert!(kith_plugin_util::parse_config::<Config>(r#"{"on_expiry": "kick"}"#).is_err());
        assert!(Config {
            price: 0,
            ..Config::default()
        }
        .validate()
        .is_err());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 7);
        assert_eq!(props["price"]["default"], 100);
        assert_eq!(props["currency"]["default"], "CNY");
        assert_eq!(props["period_days"]["default"], 365);
        assert_eq!(props["on_expiry"]["default"], "remove");
        assert_eq!(props["tier"]["default"], "member");
        for (k, p) in props {
            assert!(p["description"].is_string(), "{k}");
        }
    }

    #[test]
    fn money_formats_minor_units() {
        assert_eq!(money(100, "CNY"), "¥1.00");
        assert_eq!(money(190_000, "CNY"), "¥1900.00");
        assert_eq!(money(5, "USD"), "0.05 USD");
        assert_eq!(money(-150, "CNY"), "-¥1.50");
    }

    #[test]
    fn messages() {
        let zh = Config::default();
        let shanghai = Clock {
            utc_offset_minutes: 480,
            timezone: "Asia/Shanghai".into(),
        };
        assert_eq!(
            welcome_message(&zh, &shanghai, Some(1_796_000_400_000), false),
            "付款成功：member会员已开通，有效期至 2026年11月30日 09:00（Asia/Shanghai）。"
        );
        assert_eq!(pending_reason(&zh), "支付 ¥1.00 即可入群");
        let c = Config {
            language: Language::En,
            ..Config::default()
        };
        assert_eq!(pending_reason(&c), "pay ¥1.00 to join");
        assert_eq!(
            below_price_message(50, &c),
            "payment of ¥0.50 is below the price ¥1.00"
        );
        assert_eq!(
            price_message(&c, "VIP Club"),
            "To join VIP Club, pay ¥1.00 (payment purpose \"entry\"); it makes you a member member for 365 days."
        );
        assert_eq!(
            welcome_message(&c, &shanghai, Some(1), false),
            "Payment received: member membership confirmed for 365 days."
        );
        let forever = Config {
            period_days: 0,
            ..c.clone()
        };
        assert_eq!(
            welcome_message(&forever, &shanghai, None, true),
            "Payment received: member membership renewed, with no end date."
        );
        assert_eq!(
            expired_message(&c),
            "Your member membership has expired; pay ¥1.00 to renew."
        );
    }

    #[test]
    fn periods_start_now_or_extend_a_running_one() {
        let c = Config {
            period_days: 30,
            ..Config::default()
        };
        assert_eq!(paid_until(&c, 1_000, None), Some(1_000 + 30 * DAY_MS));
        assert_eq!(paid_until(&c, 1_000, Some(500)), Some(1_000 + 30 * DAY_MS));
        assert_eq!(
            paid_until(&c, 1_000, Some(5_000)),
            Some(5_000 + 30 * DAY_MS)
        );
        let forever = Config {
            period_days: 0,
            ..c
        };
        assert_eq!(paid_until(&forever, 1_000, Some(5_000)), None);
    }

    #[test]
    fn payment_checks() {
        let c = Config::default();
        assert_eq!(
            check_payment(&c, "group-buy:x", "CNY", 100),
            PaymentCheck::Ignore
        );
        assert_eq!(
            check_payment(&c, "entry", "USD", 100),
            PaymentCheck::WrongCurrency
        );
        assert_eq!(
            check_payment(&c, "entry", "cny", 99),
            PaymentCheck::BelowPrice
        );
        assert_eq!(check_payment(&c, "entry", "CNY", 100), PaymentCheck::Accept);
        assert_eq!(check_payment(&c, "entry", "CNY", 150), PaymentCheck::Accept);
    }

    #[test]
    fn expiry_check() {
        assert!(is_expired(Some(10), 10));
        assert!(!is_expired(Some(11), 10));
        assert!(!is_expired(None, 10));
    }
}
