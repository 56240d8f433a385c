//! Host-independent rules of the paid-entry gate, unit-tested natively.

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            price: 100,
            currency: "CNY".into(),
            period_days: 365,
            on_expiry: OnExpiry::Remove,
            tier: "member".into(),
        }
    }
}

impl Config {
    pub fn validate(self) -> Result<Self, String> {
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
    kith_plugin_util::config_schema::<Config>(&[
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
    ])
}

/// `12345, "CNY"` -> `"123.45 CNY"`.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

pub fn pending_reason(cfg: &Config) -> String {
    format!("pay {} to join", cfg.price_text())
}

pub fn price_message(cfg: &Config, group_name: &str) -> String {
    let period = match cfg.period_days {
        0 => "for good".to_string(),
        1 => "for 1 day".to_string(),
        n => format!("for {n} days"),
    };
    format!(
        "To join {group_name}, pay {} (payment purpose \"{PURPOSE}\"); it makes you a {} member {period}.",
        cfg.price_text(),
        cfg.tier
    )
}

pub fn below_price_message(amount: i64, cfg: &Config) -> String {
    format!(
        "payment of {} is below the price {}",
        money(amount, &cfg.currency),
        cfg.price_text()
    )
}

pub fn wrong_currency_message(currency: &str, cfg: &Config) -> String {
    format!(
        "payments in {currency} are not accepted; the price is {}",
        cfg.price_text()
    )
}

pub fn welcome_message(cfg: &Config, until: Option<i64>, renewed: bool) -> String {
    let what = if renewed { "renewed" } else { "confirmed" };
    match until {
        Some(_) if cfg.period_days == 1 => format!(
            "Payment received: {} membership {what} for 1 day.",
            cfg.tier
        ),
        Some(_) => format!(
            "Payment received: {} membership {what} for {} days.",
            cfg.tier, cfg.period_days
        ),
        None => format!(
            "Payment received: {} membership {what}, with no end date.",
            cfg.tier
        ),
    }
}

pub fn expired_message(cfg: &Config) -> String {
    format!(
        "Your {} membership has expired; pay {} to renew.",
        cfg.tier,
        cfg.price_text()
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
        assert_eq!(props.len(), 5);
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
        assert_eq!(money(100, "CNY"), "1.00 CNY");
        assert_eq!(money(190_000, "CNY"), "1900.00 CNY");
        assert_eq!(money(5, "USD"), "0.05 USD");
        assert_eq!(money(-150, "CNY"), "-1.50 CNY");
    }

    #[test]
    fn messages() {
        let c = Config::default();
        assert_eq!(pending_reason(&c), "pay 1.00 CNY to join");
        assert_eq!(
            below_price_message(50, &c),
            "payment of 0.50 CNY is below the price 1.00 CNY"
        );
        assert_eq!(
            price_message(&c, "VIP Club"),
            "To join VIP Club, pay 1.00 CNY (payment purpose \"entry\"); it makes you a member member for 365 days."
        );
        assert_eq!(
            welcome_message(&c, Some(1), false),
            "Payment received: member membership confirmed for 365 days."
        );
        let forever = Config {
            period_days: 0,
            ..c.clone()
        };
        assert_eq!(
            welcome_message(&forever, None, true),
            "Payment received: member membership renewed, with no end date."
        );
        assert_eq!(
            expired_message(&c),
            "Your member membership has expired; pay 1.00 CNY to renew."
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
