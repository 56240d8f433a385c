//! Host-independent rules of the quiz gate, unit-tested natively.

use kith_plugin_util::SplitMix64;
use kith_plugin_util::{Language, Overrides, Text, Texts};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Message keys of the verdicts, in [`TEXTS`].
pub const REJECT_NOTHING_ASKED: &str = "reject_nothing_asked";
pub const REJECT_LATE: &str = "reject_late";
pub const REJECT_WRONG: &str = "reject_wrong";
pub const ADMIT_RIGHT: &str = "admitted";

/// Everything the gate says, in zh-CN and en (config keys `language`, `texts`).
pub const TEXTS: &[Text] = &[
    Text::new(
        "question",
        "欢迎申请加入{group}！请在 {seconds} 秒内回答：{question}",
        "To join {group}, answer within {seconds} seconds: {question}",
    ),
    Text::new(
        "pending",
        "请在 {seconds} 秒内回答入群问题",
        "answer the question within {seconds} seconds",
    ),
    Text::new(
        "no_answer",
        "{seconds} 秒内未作答",
        "no answer within {seconds} seconds",
    ),
    Text::new(
        REJECT_NOTHING_ASKED,
        "没有待回答的问题，请重新申请入群",
        "no question is waiting for an answer; ask to join again",
    ),
    Text::new(REJECT_LATE, "回答超时", "too late"),
    Text::new(REJECT_WRONG, "回答错误", "wrong answer"),
    Text::new(
        ADMIT_RIGHT,
        "入群问题回答正确",
        "answered the entry question correctly",
    ),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub question: String,
    /// Every accepted spelling; compared after trimming and collapsing spaces.
    pub answers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub questions: Vec<Question>,
    pub timeout_seconds: u32,
    pub case_sensitive: bool,
    pub language: Language,
    pub texts: Overrides,
}

fn q(question: &str, answers: &[&str]) -> Question {
    Question {
        question: question.into(),
        answers: answers.iter().map(|a| a.to_string()).collect(),
    }
}

impl Default for Config {
    /// A photography club's questions: they test fit with the group's
    /// topic, which arithmetic captchas cannot.
    fn default() -> Self {
        Config {
            questions: vec![
                q(
                    "Which aperture lets in more light, f/2 or f/8?",
                    &["f/2", "f2", "2"],
                ),
                q(
                    "The rule of thirds is a guideline for composition or for exposure?",
                    &["composition", "构图"],
                ),
                q(
                    "What do photographers call the hour just after sunrise or before sunset?",
                    &["golden hour", "the golden hour", "黄金时刻", "黄金时间"],
                ),
            ],
            timeout_seconds: 60,
            case_sensitive: false,
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
        if self.questions.is_empty() {
            return Err("config: at least one question is needed".into());
        }
        if let Some(bad) = self
            .questions
            .iter()
            .find(|q| q.question.trim().is_empty() || q.answers.iter().all(|a| a.trim().is_empty()))
        {
            return Err(format!(
                "config: question {:?} needs text and at least one accepted answer",
                bad.question
            ));
        }
        if self.timeout_seconds < 1 {
            return Err("config: timeout_seconds must be at least 1".into());
        }
        Ok(self)
    }

    pub fn timeout_ms(&self) -> i64 {
        i64::from(self.timeout_seconds) * 1000
    }
}

pub fn config_schema() -> String {
    kith_plugin_util::config_schema_with_texts::<Config>(&[
        (
            "questions",
            "Questions about the group's topic; each applicant gets one, with the answers accepted for it.",
            json!({
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["question", "answers"],
                    "properties": {
                        "question": {"type": "string", "minLength": 1},
                        "answers": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
                    }
                }
            }),
        ),
        (
            "timeout_seconds",
            "Seconds the applicant has to answer; later answers are rejected and silence is declined.",
            json!({"type": "integer", "minimum": 1, "maximum": 86_400}),
        ),
        (
            "case_sensitive",
            "Whether answers must match the accepted ones letter case included.",
            json!({"type": "boolean"}),
        ),
    ], TEXTS)
}

/// Stored at `pending:<member>` while a question waits for its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub question: usize,
    pub asked_at: i64,
    /// Fixed when asked, so a config change cannot move a promised deadline.
    pub deadline: i64,
}

impl Pending {
    pub fn timeout_seconds(&self) -> i64 {
        (self.deadline - self.asked_at) / 1000
    }
}

pub fn pending_key(member: &str) -> String {
    format!("pending:{member}")
}

pub const TIMER_PREFIX: &str = "expire:";

pub fn timer_name(member: &str) -> String {
    format!("{TIMER_PREFIX}{member}")
}

pub fn ask(cfg: &Config, seed: u64, now: i64) -> Pending {
    let n = cfg.questions.len().max(1) as u64;
    Pending {
        question: (SplitMix64::new(seed).next_u64() % n) as usize,
        asked_at: now,
        deadline: now.saturating_add(cfg.timeout_ms()),
    }
}

pub fn question_message(t: &Texts, group_name: &str, question: &str, seconds: u32) -> String {
    t.render(
        "question",
        &[
            ("group", &group_name),
            ("seconds", &seconds),
            ("question", &question),
        ],
    )
}

pub fn pending_reason(t: &Texts, timeout_seconds: u32) -> String {
    t.render("pending", &[("seconds", &timeout_seconds)])
}

pub fn no_answer_reason(t: &Texts, pending: &Pending) -> String {
    t.render("no_answer", &[("seconds", &pending.timeout_seconds())])
}

/// Chat input is sloppy: outer spaces and runs of spaces never count.
fn normalize(s: &str, case_sensitive: bool) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if case_sensitive {
        joined
    } else {
        joined.to_lowercase()
    }
}

pub fn is_right(q: &Question, answer: &str, case_sensitive: bool) -> bool {
    let given = normalize(answer, case_sensitive);
    !given.is_empty()
        && q.answers
            .iter()
            .any(|a| normalize(a, case_sensitive) == given)
}

#[derive(Debug, PartialEq)]
pub enum Verdict {
    Admit(&'static str),
    Reject(&'static str),
}

/// The deadline itself still counts as in time.
pub fn judge(cfg: &Config, pending: Option<&Pending>, answer: &str, now: i64) -> Verdict {
    let Some(p) = pending else {
        return Verdict::Reject(REJECT_NOTHING_ASKED);
    };
    if now > p.deadline {
        return Verdict::Reject(REJECT_LATE);
    }
    // A question removed from the config since it was asked cannot be
    // answered right; the applicant may ask again.
    match cfg.questions.get(p.question) {
        Some(q) if is_right(q, answer, cfg.case_sensitive) => Verdict::Admit(ADMIT_RIGHT),
        _ => Verdict::Reject(REJECT_WRONG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_schema_and_validation() {
        let c: Config = kith_plugin_util::parse_config("{}").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.questions.len(), 3);
        assert_eq!(c.timeout_ms(), 60_000);
        assert!(c.clone().validate().is_ok());
        let empty = Config {
            questions: vec![],
            ..Config::default()
        };
        assert!(empty.validate().is_err());
        let blank = Config {
            questions: vec![q("x?", &[" "])],
            ..Config::default()
        };
        assert!(blank.validate().is_err());
        let v: serde_json::Value = serde_json::from_str(&config_schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        assert_eq!(props.len(), 5);
        assert_eq!(props["timeout_seconds"]["default"], 60);
        assert_eq!(props["case_sensitive"]["default"], false);
        assert_eq!(
            props["questions"]["default"][0]["answers"],
            json!(["f/2", "f2", "2"])
        );
        for (k, p) in props {
            assert!(p["description"].is_string(), "{k}");
        }
    }

    #[test]
    fn questions_are_picked_from_the_seed() {
        let c = Config::default();
        let a = ask(&c, 42, 1_000);
        assert_eq!(a, ask(&c, 42, 1_000));
        assert_eq!(a.deadline, 61_000);
        assert_eq!(a.timeout_seconds(), 60);
        let picked: std::collections::HashSet<usize> =
            (0..50).map(|s| ask(&c, s, 0).question).collect();
        assert_eq!(picked.len(), 3, "every question gets asked");
    }

    #[test]
    fn answers_ignore_case_and_spacing_unless_configured() {
        let question = q("Light?", &["Golden  Hour"]);
        assert!(is_right(&question, "  golden hour ", false));
        assert!(!is_right(&question, "golden hour", true));
        assert!(is_right(&question, "Golden Hour", true));
        assert!(!is_right(&question, "", false));
        assert!(!is_right(&question, "blue hour", false));
    }

    #[test]
    fn judging_deadline_and_answers() {
        let c = Config::default();
        let p = Pending {
            question: 1,
            asked_at: 0,
            deadline: 60_000,
        };
        assert_eq!(
            judge(&c, Some(&p), "Composition", 60_000),
            Verdict::Admit(ADMIT_RIGHT)
        );
        assert_eq!(
            judge(&c, Some(&p), "composition", 60_001),
            Verdict::Reject(REJECT_LATE)
        );
        assert_eq!(
            judge(&c, Some(&p), "exposure", 10),
            Verdict::Reject(REJECT_WRONG)
        );
        assert_eq!(
            judge(&c, None, "composition", 10),
            Verdict::Reject(REJECT_NOTHING_ASKED)
        );
        let gone = Pending { question: 9, ..p };
        assert_eq!(
            judge(&c, Some(&gone), "composition", 10),
            Verdict::Reject(REJECT_WRONG)
        );
    }

    #[test]
    fn messages() {
        let zh = Config::default();
        assert_eq!(
            question_message(&zh.texts(), "摄影俱乐部", "为什么？", 60),
            "欢迎申请加入摄影俱乐部！请在 60 秒内回答：为什么？"
        );
        let en = Config {
            language: Language::En,
            ..Config::default()
        };
        let t = en.texts();
        assert_eq!(
            question_message(&t, "Photo Club", "Why?", 60),
            "To join Photo Club, answer within 60 seconds: Why?"
        );
        assert_eq!(
            pending_reason(&t, 30),
            "answer the question within 30 seconds"
        );
        let p = Pending {
            question: 0,
            asked_at: 5,
            deadline: 30_005,
        };
        assert_eq!(no_answer_reason(&t, &p), "no answer within 30 seconds");
        assert_eq!(timer_name("amy"), "expire:amy");
        assert_eq!(pending_key("amy"), "pending:amy");
    }
}
