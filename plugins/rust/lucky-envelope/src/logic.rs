//! Host-independent rules of the lucky red envelope (拼手气红包), unit-tested
//! natively: parsing the command, the double-mean split, the texts.

use kith_plugin_util::SplitMix64;
use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const HOUR_MS: i64 = 3_600_000;
pub const ENVELOPE_PREFIX: &str = "env:";
/// Maps the host's announcement post to its envelope, so grabbing works on
/// either message.
pub const POST_PREFIX: &str = "post:";
pub const EXPIRE_PREFIX: &str = "expire:";
/// Storage key prefix: when a member was last told off about a command.
pub const COMPLAINED_PREFIX: &str = "complained:";
/// Grabbers told their share by DM, per envelope: the results post names
/// everyone, and a large envelope's DMs would use up the message quota
/// (60 a minute by default) before it.
pub const GRAB_DMS: usize = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub command: String,
    pub grab_emoji: String,
    /// A reply with this text to the envelope grabs a share too, for
    /// platforms whose adapter does not forward reactions.
    pub grab_command: String,
    pub max_shares: u32,
    pub expire_hours: u32,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            command: "/envelope".into(),
            grab_emoji: "🧧".into(),
            grab_command: "/grab".into(),
            max_shares: 100,
            expire_hours: 24,
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
        if self.command.trim().is_empty() || self.command.split_whitespace().count() != 1 {
            return Err("config: command must be one word".into());
        }
        if self.grab_emoji.trim().is_empty() {
            return Err("config: grab_emoji must not be empty".into());
        }
        if !(1..=1000).contains(&self.max_shares) {
            return Err("config: max_shares must be 1-1000".into());
        }
        if !(1..=24 * 30).contains(&self.expire_hours) {
            return Err("config: expire_hours must be 1-720".into());
        }
        Ok(self)
    }

    pub fn is_grab_command(&self, text: &str) -> bool {
        kith_plugin_util::is_command(text, &self.grab_command)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(
        &[
            (
                "command",
                "Chat command that sends an envelope: `<command> <amount in yuan> <shares>`.",
                json!({"type": "string", "minLength": 1, "pattern": "^\\S+$"}),
            ),
            (
                "grab_emoji",
                "Reaction on the envelope (the command or the announcement) that grabs a share.",
                json!({"type": "string", "minLength": 1}),
            ),
            (
                "grab_command",
                "A reply with this text to the envelope also grabs a share.",
                json!({"type": "string", "minLength": 1}),
            ),
            (
                "max_shares",
                "Largest number of shares of one envelope.",
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            ),
            (
                "expire_hours",
                "Hours after which what is left goes back to the sender.",
                json!({"type": "integer", "minimum": 1, "maximum": 720}),
            ),
        ],
        TEXTS,
    )
}

/// What `<command> <amount> <count>` asked for, in cents.
#[derive(Debug, PartialEq)]
pub enum Command {
    NotOurs,
    Send { amount: i64, count: u32 },
    Invalid(String),
}

/// Everything the game says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "usage",
        "用法：{command} <金额（元）> <份数>，例如 {command} 10.00 5（最多 {max} 份，每份至少 0.01 元）。",
        "Usage: {command} <amount in yuan> <shares>, e.g. {command} 10.00 5 (at most {max} shares, at least 0.01 per share).",
    ),
    Text::new(
        "insufficient",
        "余额不足：红包需要 {amount}，你的钱包只有 {balance}。",
        "insufficient balance: the envelope needs {amount}, your wallet holds {balance}.",
    ),
    Text::new(
        "announcement",
        "{emoji} {member} 发了一个拼手气红包，共 {count} 份，点 {emoji} 来抢！",
        "{emoji} {member} sent a lucky envelope: {count} shares. React with {emoji} to grab!",
    ),
    Text::new(
        "grabbed",
        "你抢到了 {member} 的红包：{amount}。",
        "You grabbed {amount} from {member}'s lucky envelope.",
    ),
    Text::new(
        "results_title",
        "🧧 {member} 的红包（{amount}）{count} 份已被抢完：",
        "🧧 All {count} shares of {member}'s lucky envelope ({amount}) are taken:",
    ),
    Text::new("results_row", "{member}：{amount}", "{member}: {amount}"),
    Text::new(
        "luckiest",
        "手气最佳：@{member}，抢到 {amount}！",
        "Luckiest: @{member} with {amount}!",
    ),
    Text::new(
        "expired",
        "🧧 {member} 的红包已过期，{amount} 已退回。",
        "🧧 {member}'s lucky envelope expired, {amount} returned.",
    ),
];

pub fn usage(cfg: &Config) -> String {
    cfg.texts().render(
        "usage",
        &[("command", &cfg.command), ("max", &cfg.max_shares)],
    )
}

pub fn parse_command(text: &str, cfg: &Config) -> Command {
    let mut words = text.split_whitespace();
    if words.next() != Some(cfg.command.trim()) {
        return Command::NotOurs;
    }
    let (Some(amount), Some(count), None) = (words.next(), words.next(), words.next()) else {
        return Command::Invalid(usage(cfg));
    };
    let (Some(amount), Ok(count)) = (parse_yuan(amount), count.parse::<u32>()) else {
        return Command::Invalid(usage(cfg));
    };
    if count == 0 || count > cfg.max_shares || amount < i64::from(count) {
        return Command::Invalid(usage(cfg));
    }
    Command::Send { amount, count }
}

/// "10", "10.5", "10.05" → cents. No sign, no exponent, at most two
/// decimals, at most a million yuan: anything else is a typo to report.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 7 || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return None;
    }
    if text.ends_with('.') {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    let cents = whole * 100 + frac;
    (cents > 0 && cents <= 100_000_000).then_some(cents)
}

pub fn yuan(cents: i64) -> String {
    kith_plugin_util::format_money(cents)
}

/// Stored at `env:<command message id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub sender: String,
    pub total: i64,
    pub count: u32,
    pub remaining_amount: i64,
    pub remaining_count: u32,
    /// `ctx.seed` of the command: every draw is replayable from it.
    pub seed: u64,
    /// Cents drawn, in order; `openers[i]` got `draws[i]`.
    pub draws: Vec<i64>,
    pub openers: Vec<String>,
    #[serde(default)]
    pub expired: bool,
}

impl Envelope {
    pub fn new(sender: &str, total: i64, count: u32, seed: u64) -> Self {
        Envelope {
            sender: sender.into(),
            total,
            count,
            remaining_amount: total,
            remaining_count: count,
            seed,
            draws: vec![],
            openers: vec![],
            expired: false,
        }
    }

    pub fn is_open(&self) -> bool {
        !self.expired && self.remaining_count > 0
    }

    pub fn has_opened(&self, member: &str) -> bool {
        self.openers.iter().any(|o| o == member)
    }

    /// The next share for `member`, recorded; None when they already have
    /// one or nothing is left.
    pub fn grab(&mut self, member: &str) -> Option<i64> {
        if !self.is_open() || self.has_opened(member) {
            return None;
        }
        let amount = draw(
            self.seed,
            self.draws.len() as u64,
            self.remaining_amount,
            self.remaining_count,
        );
        self.remaining_amount -= amount;
        self.remaining_count -= 1;
        self.draws.push(amount);
        self.openers.push(member.into());
        Some(amount)
    }

    /// Index of the largest draw; the earliest opener wins a tie.
    pub fn luckiest(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, d) in self.draws.iter().enumerate() {
            if best.is_none_or(|b| *d > self.draws[b]) {
                best = Some(i);
            }
        }
        best
    }
}

/// The `index`-th output of the SplitMix64 stream seeded with `seed`, so each
/// draw depends only on the recorded seed and how many draws came before.
fn stream_at(seed: u64, index: u64) -> u64 {
    let mut rng = SplitMix64::new(seed);
    let mut out = rng.next_u64();
    for _ in 0..index {
        out = rng.next_u64();
    }
    out
}

/// One share by the double-mean method: the last share takes the rest,
/// others are uniform in [1, floor(2 × remaining / count) − 1] cents, capped so
/// every later share can still get a cent.
///
/// Needs `remaining_amount >= remaining_count >= 1`, which the envelope keeps.
pub fn draw(seed: u64, index: u64, remaining_amount: i64, remaining_count: u32) -> i64 {
    if remaining_count <= 1 {
        return remaining_amount;
    }
    let count = i64::from(remaining_count);
    let max = (2 * remaining_amount / count - 1)
        .min(remaining_amount - (count - 1))
        .max(1);
    // Multiply-shift instead of `%`: one stream output per draw, and a bias
    // below 2^-40 for any amount an envelope can hold.
    let r = ((u128::from(stream_at(seed, index)) * max as u128) >> 64) as i64;
    1 + r
}

pub fn insufficient_message(t: &Texts, amount: i64, balance: i64) -> String {
    t.render(
        "insufficient",
        &[("amount", &yuan(amount)), ("balance", &yuan(balance))],
    )
}

pub fn announcement(t: &Texts, name: &str, count: u32, emoji: &str) -> String {
    t.render(
        "announcement",
        &[("emoji", &emoji), ("member", &name), ("count", &count)],
    )
}

pub fn grabbed_dm(t: &Texts, amount: i64, name: &str) -> String {
    t.render("grabbed", &[("amount", &yuan(amount)), ("member", &name)])
}

/// `names[i]` is the display name of `openers[i]`.
pub fn results(t: &Texts, env: &Envelope, sender_name: &str, names: &[String]) -> String {
    let mut text = t.render(
        "results_title",
        &[
            ("count", &env.count),
            ("member", &sender_name),
            ("amount", &yuan(env.total)),
        ],
    );
    for (name, d) in names.iter().zip(&env.draws) {
        text.push('\n');
        text.push_str(&t.render("results_row", &[("member", name), ("amount", &yuan(*d))]));
    }
    if let Some(i) = env.luckiest() {
        text.push('\n');
        let amount = yuan(env.draws[i]);
        text.push_str(&t.render("luckiest", &[("member", &names[i]), ("amount", &amount)]));
    }
    text
}

pub fn expired_message(t: &Texts, sender_name: &str, returned: i64) -> String {
    t.render(
        "expired",
        &[("member", &sender_name), ("amount", &yuan(returned))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(total: i64, count: u32, seed: u64) -> Vec<i64> {
        let mut env = Envelope::new("s", total, count, seed);
        (0..count)
            .map(|i| env.grab(&format!("m{i}")).unwrap())
            .collect()
    }

    #[test]
    fn sum_is_exact_and_every_draw_at_least_a_cent() {
        for seed in 0..300u64 {
            for (total, count) in [(1000, 5), (5, 5), (6, 5), (100, 100), (1, 1), (99_999, 7)] {
                let draws = split(total, count, seed);
                assert_eq!(
                    draws.iter().sum::<i64>(),
                    total,
                    "{total}/{count} seed {seed}"
                );
                assert!(draws.iter().all(|d| *d >= 1), "{draws:?}");
            }
        }
    }

    #[test]
    fn same_seed_same_draws_other_seed_other_draws() {
        assert_eq!(split(1000, 5, 42), split(1000, 5, 42));
        assert_ne!(split(1000, 5, 42), split(1000, 5, 43));
        // A draw replayed alone from the record equals the one in sequence.
        let all = split(1000, 5, 7);
        assert_eq!(draw(7, 0, 1000, 5), all[0]);
        assert_eq!(draw(7, 1, 1000 - all[0], 4), all[1]);
    }

    #[test]
    fn draws_stay_below_twice_the_mean() {
        for seed in 0..500u64 {
            let d = draw(seed, 0, 1000, 5);
            assert!((1..=399).contains(&d), "{d}");
        }
        // 5 cents in 5 shares: nothing to randomise.
        assert_eq!(split(5, 5, 9), vec![1; 5]);
    }

    #[test]
    fn distribution_is_sane() {
        // First draws of 10.00 / 5: uniform on [1, 399], mean 2.00.
        let n = 20_000u64;
        let draws: Vec<i64> = (0..n).map(|s| draw(s, 0, 1000, 5)).collect();
        let mean = draws.iter().sum::<i64>() as f64 / n as f64;
        assert!((mean - 200.0).abs() < 5.0, "mean {mean}");
        let low = draws.iter().filter(|d| **d <= 200).count() as f64 / n as f64;
        assert!((low - 0.5).abs() < 0.02, "share below mean {low}");
        assert!(draws.iter().any(|d| *d <= 5) && draws.iter().any(|d| *d >= 395));
        // Each position gets the same share of the total on average.
        let mut by_pos = [0i64; 5];
        for seed in 0..n {
            for (i, d) in split(1000, 5, seed).into_iter().enumerate() {
                by_pos[i] += d;
            }
        }
        for p in by_pos {
            let avg = p as f64 / n as f64;
            assert!((avg - 200.0).abs() < 8.0, "{by_pos:?}");
        }
    }

    #[test]
    fn grab_once_per_member_and_only_while_open() {
        let mut env = Envelope::new("s", 300, 2, 1);
        let a = env.grab("amy").unwrap();
        assert_eq!(env.grab("amy"), None);
        let b = env.grab("bob").unwrap();
        assert_eq!(a + b, 300);
        assert_eq!(env.grab("cat"), None);
        assert_eq!((env.remaining_amount, env.remaining_count), (0, 0));
        let mut env = Envelope::new("s", 300, 2, 1);
        env.expired = true;
        assert_eq!(env.grab("amy"), None);
    }

    #[test]
    fn amounts_parse_and_format() {
        assert_eq!(parse_yuan("10.00"), Some(1000));
        assert_eq!(parse_yuan("10"), Some(1000));
        assert_eq!(parse_yuan("10.5"), Some(1050));
        assert_eq!(parse_yuan("0.01"), Some(1));
        for bad in [
            "0", "0.00", "-1", "1.234", "1.", ".5", "1e3", "abc", "", "99999999",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
        assert_eq!(yuan(1000), "¥10.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(123_456), "¥1234.56");
    }

    #[test]
    fn commands_are_validated() {
        let c = Config::default();
        assert_eq!(
            parse_command(" /envelope 10.00 5 ", &c),
            Command::Send {
                amount: 1000,
                count: 5
            }
        );
        assert_eq!(parse_command("/envelopes 1 1", &c), Command::NotOurs);
        assert_eq!(parse_command("hello", &c), Command::NotOurs);
        for bad in [
            "/envelope",
            "/envelope 10",
            "/envelope 10 0",
            "/envelope 0.04 5",
            "/envelope 10 101",
            "/envelope 10 5 x",
            "/envelope x 5",
        ] {
            assert!(
                matches!(parse_command(bad, &c), Command::Invalid(_)),
                "{bad}"
            );
        }
        assert_eq!(
            parse_command("/envelope 0.05 5", &c),
            Command::Send {
                amount: 5,
                count: 5
            }
        );
    }

    #[test]
    fn schema_and_defaults() {
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 7);
        for (k, p) in props {
            assert!(p.get("default").is_some(), "{k}");
            assert!(p["description"].is_string(), "{k}");
        }
        assert_eq!(props["grab_emoji"]["default"], "🧧");
        let c: Config = kith_plugin_util::parse_config("").unwrap();
        assert!(c.validate().is_ok());
        let bad: Config = kith_plugin_util::parse_config(r#"{"max_shares": 0}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn texts() {
        let zh = Config::default();
        assert_eq!(
            announcement(&zh.texts(), "Ann", 5, "🧧"),
            "🧧 Ann 发了一个拼手气红包，共 5 份，点 🧧 来抢！"
        );
        assert_eq!(
            grabbed_dm(&zh.texts(), 123, "Ann"),
            "你抢到了 Ann 的红包：¥1.23。"
        );
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let t = en.texts();
        assert_eq!(
            announcement(&t, "Ann", 5, "🧧"),
            "🧧 Ann sent a lucky envelope: 5 shares. React with 🧧 to grab!"
        );
        let mut env = Envelope::new("s", 300, 2, 1);
        env.draws = vec![100, 200];
        env.openers = vec!["a".into(), "b".into()];
        assert_eq!(
            results(&t, &env, "Sam", &["Amy".into(), "Bob".into()]),
            "🧧 All 2 shares of Sam's lucky envelope (¥3.00) are taken:\nAmy: ¥1.00\nBob: ¥2.00\nLuckiest: @Bob with ¥2.00!"
        );
        assert_eq!(
            expired_message(&t, "Sam", 250),
            "🧧 Sam's lucky envelope expired, ¥2.50 returned."
        );
    }
}
