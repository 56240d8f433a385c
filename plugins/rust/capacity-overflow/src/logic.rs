//! Host-independent rules of the capacity gate, unit-tested natively.

use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `None`: the group's own capacity, so one config fits every branch.
    pub max_members: Option<u32>,
    pub redirect: bool,
    pub language: Language,
    pub texts: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_members: None,
            redirect: true,
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
        if self.max_members == Some(0) {
            return Err("config: max_members must be at least 1".into());
        }
        Ok(self)
    }

    pub fn limit(&self, group_capacity: u32) -> u32 {
        self.max_members.unwrap_or(group_capacity)
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "max_members",
            "Active members at which the group counts as full; null uses the group's own capacity.",
            json!({"type": ["integer", "null"], "minimum": 1, "maximum": 100_000}),
        ),
        (
            "redirect",
            "Send newcomers to the sibling group (same alliance) with the fewest members instead of refusing them.",
            json!({"type": "boolean"}),
        ),
    ], TEXTS)
}

/// Everything the gate says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "admitted",
        "群内还有名额（{active}/{limit} 人）",
        "room in the group ({active} of {limit} members)",
    ),
    Text::new(
        "full",
        "本群已满（{limit} 人）",
        "group is full ({limit} members)",
    ),
    Text::new(
        "redirected",
        "本群已满（{limit} 人），已为你转到{group}",
        "group is full ({limit} members); sent to {group}",
    ),
];

/// What the gate needs to know about a sibling group.
#[derive(Debug, Clone, PartialEq)]
pub struct Sibling {
    pub id: String,
    pub name: String,
    pub member_count: u32,
    pub capacity: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Admit(String),
    Reject(String),
    Redirect { group: String, reason: String },
}

/// The sibling with room and the fewest members; the lowest id breaks ties
/// so that the same state always sends newcomers to the same place.
pub fn pick_sibling(siblings: &[Sibling]) -> Option<&Sibling> {
    siblings
        .iter()
        .filter(|s| s.member_count < s.capacity)
        .min_by(|a, b| (a.member_count, &a.id).cmp(&(b.member_count, &b.id)))
}

pub fn decide(t: &Texts, active: u32, limit: u32, redirect: bool, siblings: &[Sibling]) -> Outcome {
    if active < limit {
        let args: [(&str, &dyn std::fmt::Display); 2] = [("active", &active), ("limit", &limit)];
        return Outcome::Admit(t.render("admitted", &args));
    }
    match redirect.then(|| pick_sibling(siblings)).flatten() {
        Some(s) => Outcome::Redirect {
            group: s.id.clone(),
            reason: t.render("redirected", &[("limit", &limit), ("group", &s.name)]),
        },
        None => Outcome::Reject(t.render("full", &[("limit", &limit)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sib(id: &str, member_count: u32, capacity: u32) -> Sibling {
        Sibling {
            id: id.into(),
            name: format!("Club {id}"),
            member_count,
            capacity,
        }
    }

    #[test]
    fn defaults_schema_and_validation() {
        let c: Config = kith_plugin_util::parse_config("{}").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.limit(350), 350);
        let c: Config = kith_plugin_util::parse_config(r#"{"max_members": 5}"#).unwrap();
        assert_eq!(c.limit(350), 5);
        let c: Config = kith_plugin_util::parse_config(r#"{"max_members": null}"#).unwrap();
        assert_eq!(c.max_members, None);
        assert!(Config {
            max_members: Some(0),
            ..Config::default()
        }
        .validate()
        .is_err());
        assert!(kith_plugin_util::parse_config::<Config>(r#"{"max": 1}"#).is_err());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 4);
        assert_eq!(props["max_members"]["default"], serde_json::Value::Null);
        assert_eq!(props["redirect"]["default"], true);
        for (k, p) in props {
            assert!(p["description"].is_string(), "{k}");
        }
    }

    fn decide(active: u32, limit: u32, redirect: bool, siblings: &[Sibling]) -> Outcome {
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        super::decide(&en.texts(), active, limit, redirect, siblings)
    }

    #[test]
    fn chinese_by_default() {
        let t = Config::default();
        let t = t.texts();
        assert_eq!(
            super::decide(&t, 2, 2, true, &[sib("sh", 0, 2)]),
            Outcome::Redirect {
                group: "sh".into(),
                reason: "本群已满（2 人），已为你转到Club sh".into()
            }
        );
        assert_eq!(
            super::decide(&t, 1, 2, true, &[]),
            Outcome::Admit("群内还有名额（1/2 人）".into())
        );
    }

    #[test]
    fn admits_below_the_limit() {
        assert_eq!(
            decide(1, 2, true, &[]),
            Outcome::Admit("room in the group (1 of 2 members)".into())
        );
    }

    #[test]
    fn redirects_to_the_emptiest_sibling_lowest_id_on_ties() {
        let s = [
            sib("sz", 1, 2),
            sib("bj", 1, 2),
            sib("sh", 0, 2),
            sib("wh", 0, 0),
        ];
        assert_eq!(
            decide(2, 2, true, &s),
            Outcome::Redirect {
                group: "sh".into(),
                reason: "group is full (2 members); sent to Club sh".into()
            }
        );
        assert_eq!(pick_sibling(&s[..2]).unwrap().id, "bj");
    }

    #[test]
    fn full_siblings_or_no_redirect_reject() {
        let s = [sib("sz", 2, 2), sib("bj", 3, 2)];
        assert_eq!(
            decide(5, 2, true, &s),
            Outcome::Reject("group is full (2 members)".into())
        );
        assert_eq!(
            decide(2, 2, false, &[sib("sz", 0, 2)]),
            Outcome::Reject("group is full (2 members)".into())
        );
        assert_eq!(
            decide(2, 2, true, &[]),
            Outcome::Reject("group is full (2 members)".into())
        );
    }
}
