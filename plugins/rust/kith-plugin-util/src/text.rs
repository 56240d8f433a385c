//! Messages in the operator's language, and times and money shown the way
//! members read them.
//!
//! Each plugin lists its messages once, as a table of [`Text`]s with a
//! zh-CN and an en template; the operator picks the language with the
//! config key `language` (zh-CN by default: the bundled plugins serve
//! Chinese communities first) and may replace any template through the
//! config key `texts` (message key → template). Templates name their
//! values in braces, e.g. `{member}`; [`config_schema_with_texts`] lists
//! every key with its placeholders, so the schema documents and guards them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Display;

/// The language a plugin writes its messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    /// Simplified Chinese, the default of the bundled plugins.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

/// One message of a plugin: its config key and its built-in templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// The key under `texts` that overrides it.
    pub key: &'static str,
    /// The zh-CN template.
    pub zh: &'static str,
    /// The en template.
    pub en: &'static str,
}

impl Text {
    /// A table entry; `const` so plugins can keep their tables in `const`s.
    pub const fn new(key: &'static str, zh: &'static str, en: &'static str) -> Self {
        Text { key, zh, en }
    }
}

/// The operator's overrides: message key → template (config key `texts`).
pub type Overrides = BTreeMap<String, String>;

/// A plugin's messages in the configured language, with the operator's
/// overrides applied.
#[derive(Debug, Clone, Copy)]
pub struct Texts<'a> {
    table: &'static [Text],
    language: Language,
    overrides: &'a Overrides,
}

impl<'a> Texts<'a> {
    /// The messages of `table` in `language`, `overrides` taking precedence.
    pub fn new(table: &'static [Text], language: Language, overrides: &'a Overrides) -> Self {
        Texts {
            table,
            language,
            overrides,
        }
    }

    /// The language the messages are written in (for times, lists, labels).
    pub fn language(&self) -> Language {
        self.language
    }

    /// The template of `key`: the operator's, else the built-in one. A key
    /// missing from the table is a bug in the plugin; it shows as the key
    /// itself rather than failing a member's action.
    pub fn template<'k>(&self, key: &'k str) -> &'k str
    where
        'a: 'k,
    {
        if let Some(t) = self.overrides.get(key) {
            return t;
        }
        match self.table.iter().find(|t| t.key == key) {
            Some(t) if self.language == Language::En => t.en,
            Some(t) => t.zh,
            None => key,
        }
    }

    /// The message `key` with its placeholders filled from `args`.
    pub fn render(&self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        fill(self.template(key), args)
    }

    /// `ms` in the group's zone and the messages' language, see [`Clock`].
    pub fn time(&self, clock: &Clock, ms: i64) -> String {
        clock.format(ms, self.language)
    }
}

/// Refuses override keys the plugin does not have (the schema refuses them
/// too; this keeps a host that skipped validation from silently ignoring a
/// typo).
pub fn check_overrides(table: &[Text], overrides: &Overrides) -> Result<(), String> {
    match overrides
        .keys()
        .find(|k| !table.iter().any(|t| t.key == k.as_str()))
    {
        Some(k) => Err(format!("config: texts has no message `{k}`")),
        None => Ok(()),
    }
}

/// Replaces each `{name}` of `template` that `args` names by its value;
/// other braces are left as they are, so a stray `{` in an operator's
/// template shows up instead of failing.
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| Some((close, args.iter().find(|(n, _)| *n == &after[..close])?)));
        match value {
            Some((close, (_, v))) => {
                out.push_str(&v.to_string());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder names of a template, in order, without duplicates.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('}') else { break };
        let name = &rest[..close];
        let plain =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if plain && !names.contains(&name) {
            names.push(name);
        }
        rest = &rest[close + 1..];
    }
    names
}

/// The schema properties `language` and `texts` for a plugin's table.
pub fn text_properties(table: &[Text]) -> [(String, Value); 2] {
    let mut keys = Map::new();
    for t in table {
        // Both languages' placeholders: one may show more than the other.
        let mut names = placeholders(t.en);
        for n in placeholders(t.zh) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let names: Vec<String> = names.iter().map(|n| format!("{{{n}}}")).collect();
        let places = if names.is_empty() {
            "no placeholders".to_string()
        } else {
            format!("placeholders {}", names.join(", "))
        };
        keys.insert(
            t.key.into(),
            json!({
                "type": "string",
                "default": t.zh,
                "description": format!("English: \"{}\" ({places}).", t.en),
            }),
        );
    }
    let language = json!({
        "type": "string",
        "enum": ["zh-CN", "en"],
        "default": "zh-CN",
        "description": "Language of the messages the plugin sends: zh-CN (Simplified Chinese) or en (English).",
    });
    let texts = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": keys,
        "default": {},
        "description": "Replaces messages: key -> template. A template names values in braces, \
                        e.g. {member}; each key lists its placeholders. The default of each key \
                        is its zh-CN text, the description its English one.",
    });
    [("language".into(), language), ("texts".into(), texts)]
}

/// Builds a plugin's config schema like [`crate::config_schema`], plus the
/// `language` and `texts` keys for its message table.
pub fn config_schema_with_texts<T: Serialize + Default>(
    properties: &[(&str, &str, Value)],
    table: &[Text],
) -> String {
    let mut schema: Value =
        serde_json::from_str(&crate::config_schema::<T>(properties)).unwrap_or(Value::Null);
    if let Some(props) = schema["properties"].as_object_mut() {
        for (name, prop) in text_properties(table) {
            props.insert(name, prop);
        }
    }
    schema.to_string()
}

/// Where and how a group reads the time: its zone's offset and name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clock {
    /// The zone's current offset from UTC in minutes.
    pub utc_offset_minutes: i32,
    /// IANA zone name, e.g. "Asia/Shanghai"; empty when unknown.
    pub timezone: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Clock {
    /// `ms` as a local date and time: `2026年11月30日 09:00` or
    /// `30 Nov 2026 09:00`.
    pub fn format_local(&self, ms: i64, language: Language) -> String {
        let (y, mo, d, h, mi) = civil(ms, self.utc_offset_minutes);
        match language {
            Language::ZhCn => format!("{y}年{mo}月{d}日 {h:02}:{mi:02}"),
            Language::En => format!("{d} {} {y} {h:02}:{mi:02}", MONTHS[mo as usize - 1]),
        }
    }

    /// Like [`Clock::format_local`], followed by the zone's name so members
    /// elsewhere know which 09:00 is meant.
    pub fn format(&self, ms: i64, language: Language) -> String {
        let local = self.format_local(ms, language);
        match (self.timezone.trim(), language) {
            ("", _) => local,
            (zone, Language::ZhCn) => format!("{local}（{zone}）"),
            (zone, Language::En) => format!("{local} ({zone})"),
        }
    }
}

/// Local (year, month, day, hour, minute) of Unix ms `ms` at a UTC offset.
fn civil(ms: i64, utc_offset_minutes: i32) -> (i64, u32, u32, u32, u32) {
    let local_min = (ms.div_euclid(60_000)).saturating_add(i64::from(utc_offset_minutes));
    let days = local_min.div_euclid(1440);
    let min_of_day = local_min.rem_euclid(1440) as u32;
    // Days since 1970-01-01 to a proleptic Gregorian date, counting in
    // 400-year eras that start on 1 March (so the leap day ends a year).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, min_of_day / 60, min_of_day % 60)
}

/// An amount in minor units (fen) as yuan: `¥12.34`, `-¥0.05`.
pub fn format_money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}¥{}.{:02}", abs / 100, abs % 100)
}

/// Joins list items as a reader of `language` expects: `a, b or c` /
/// `a、b或c`.
pub fn join_or(items: &[String], language: Language) -> String {
    let (sep, or) = match language {
        Language::ZhCn => ("、", "或"),
        Language::En => (", ", " or "),
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}{or}{last}", init.join(sep)),
    }
}

/// How a member role is called in `language` (roles are config words in
/// English; members reading Chinese know them by their Chinese names).
pub fn role_label(role: &str, language: Language) -> String {
    let zh = match role {
        "owner" => "群主",
        "admin" => "管理员",
        "core" => "核心成员",
        "partner" => "合伙人",
        "vip" => "VIP",
        "member" => "成员",
        _ => role,
    };
    match language {
        Language::ZhCn => zh.to_string(),
        Language::En => role.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Text] = &[
        Text::new(
            "hello",
            "@{member} 签到成功：+{points} 积分。",
            "{member} checked in: +{points} points.",
        ),
        Text::new("bye", "再见", "Bye"),
    ];

    #[test]
    fn templates_follow_language_and_overrides() {
        let none = Overrides::new();
        let zh = Texts::new(TABLE, Language::default(), &none);
        assert_eq!(
            zh.render("hello", &[("member", &"Amy"), ("points", &10)]),
            "@Amy 签到成功：+10 积分。"
        );
        let en = Texts::new(TABLE, Language::En, &none);
        assert_eq!(
            en.render("hello", &[("member", &"Amy"), ("points", &10)]),
            "Amy checked in: +10 points."
        );
        let mine: Overrides = [("bye".to_string(), "下次见，{member}".to_string())].into();
        let t = Texts::new(TABLE, Language::En, &mine);
        assert_eq!(t.render("bye", &[("member", &"Amy")]), "下次见，Amy");
        assert_eq!(
            t.render("hello", &[]),
            "{member} checked in: +{points} points."
        );
        assert_eq!(t.render("missing", &[]), "missing");
    }

    #[test]
    fn fill_leaves_unknown_and_broken_braces() {
        assert_eq!(fill("{a}{b}{a}", &[("a", &1)]), "1{b}1");
        assert_eq!(fill("{ {a} }", &[("a", &"x")]), "{ x }");
        assert_eq!(fill("tail {a", &[("a", &1)]), "tail {a");
        assert_eq!(fill("", &[]), "");
        assert_eq!(placeholders("{a} {b_2} {a} {} {x y}"), vec!["a", "b_2"]);
    }

    #[test]
    fn overrides_are_checked_against_the_table() {
        assert!(check_overrides(TABLE, &[("bye".to_string(), "x".to_string())].into()).is_ok());
        let err = check_overrides(TABLE, &[("byee".to_string(), "x".to_string())].into());
        assert!(err.unwrap_err().contains("byee"));
    }

    #[test]
    fn language_serializes_as_tags() {
        assert_eq!(serde_json::to_value(Language::ZhCn).unwrap(), "zh-CN");
        assert_eq!(
            serde_json::from_str::<Language>("\"en\"").unwrap(),
            Language::En
        );
        assert!(serde_json::from_str::<Language>("\"fr\"").is_err());
    }

    #[test]
    fn schema_lists_language_and_every_key() {
        let [(l, language), (t, texts)] = text_properties(TABLE);
        assert_eq!((l.as_str(), t.as_str()), ("language", "texts"));
        assert_eq!(language["default"], "zh-CN");
        assert_eq!(texts["additionalProperties"], false);
        assert_eq!(texts["properties"]["hello"]["default"], TABLE[0].zh);
        let d = texts["properties"]["hello"]["description"]
            .as_str()
            .unwrap();
        assert!(
            d.contains("{member}, {points}") && d.contains("checked in"),
            "{d}"
        );
        assert!(texts["properties"]["bye"]["description"]
            .as_str()
            .unwrap()
            .contains("no placeholders"));
    }

    #[test]
    fn times_in_the_group_zone() {
        // 2026-11-30 01:00 UTC is 09:00 in Shanghai (UTC+8).
        let ms = 1_796_000_400_000;
        let sh = Clock {
            utc_offset_minutes: 480,
            timezone: "Asia/Shanghai".into(),
        };
        assert_eq!(sh.format_local(ms, Language::ZhCn), "2026年11月30日 09:00");
        assert_eq!(sh.format_local(ms, Language::En), "30 Nov 2026 09:00");
        assert_eq!(
            sh.format(ms, Language::ZhCn),
            "2026年11月30日 09:00（Asia/Shanghai）"
        );
        assert_eq!(
            sh.format(ms, Language::En),
            "30 Nov 2026 09:00 (Asia/Shanghai)"
        );
        let utc = Clock::default();
        assert_eq!(utc.format(ms, Language::En), "30 Nov 2026 01:00");
        assert_eq!(utc.format(0, Language::En), "1 Jan 1970 00:00");
        // West of UTC the local date is the day before.
        let ny = Clock {
            utc_offset_minutes: -300,
            timezone: String::new(),
        };
        assert_eq!(ny.format(ms, Language::En), "29 Nov 2026 20:00");
        // Leap day and a negative timestamp.
        assert_eq!(
            utc.format(1_709_164_800_000, Language::En),
            "29 Feb 2024 00:00"
        );
        assert_eq!(utc.format(-60_000, Language::En), "31 Dec 1969 23:59");
    }

    #[test]
    fn money_lists_and_roles() {
        assert_eq!(format_money(1234), "¥12.34");
        assert_eq!(format_money(5), "¥0.05");
        assert_eq!(format_money(-105), "-¥1.05");
        let roles = vec!["owner".to_string(), "admin".into(), "core".into()];
        assert_eq!(join_or(&roles, Language::En), "owner, admin or core");
        assert_eq!(join_or(&roles, Language::ZhCn), "owner、admin或core");
        assert_eq!(join_or(&roles[..1], Language::En), "owner");
        assert_eq!(role_label("admin", Language::ZhCn), "管理员");
        assert_eq!(role_label("admin", Language::En), "admin");
    }
}
