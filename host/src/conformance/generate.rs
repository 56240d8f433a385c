//! Generated events: many, seeded, with edge cases (empty strings, unicode,
//! huge numbers, unknown members), aimed at every handler of a world.

use serde_json::{json, Value};

use super::scenario::Step;
use crate::domain::*;

/// A small deterministic stream (SplitMix64): the same seed, the same events.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every string default in a config schema: commands such as "/checkin"
/// are what reach the plugin's interesting code paths.
fn schema_strings(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::String(s) if !s.is_empty() && s.len() < 200 => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| schema_strings(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if k == "default"
                    || k == "properties"
                    || k == "examples"
                    || k == "enum"
                    || map.contains_key("type") && k != "description"
                {
                    schema_strings(v, out);
                }
            }
        }
        _ => {}
    }
}

pub fn steps(seed: u64, count: usize, meta: &PluginMetadata) -> Vec<Step> {
    let mut rng = Rng(seed);
    let mut texts: Vec<String> = vec![
        String::new(),
        " ".into(),
        "hello".into(),
        "签到".into(),
        "打卡 🎉🎉".into(),
        "see https://example.com/deal?x=1 now".into(),
        "x".repeat(5_000),
        "/".into(),
        "\u{0}\u{7}control".into(),
        "مرحبا".into(),
    ];
    let mut from_schema = vec![];
    schema_strings(&meta.config_schema, &mut from_schema);
    for s in from_schema {
        texts.push(s.clone());
        texts.push(format!("{s} 10 3"));
        texts.push(format!("{s} m1 because"));
    }
    let known = ["owner", "admin", "core", "m1", "m2", "张三"];
    let strangers = ["stranger", "新人🙂", &"u".repeat(128)];
    let amounts = [1i64, 99, 100, 1_000, 100_000, i64::MAX / 4];
    let mut message_ids: Vec<String> = vec![];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let member = |rng: &mut Rng| -> String {
            if rng.below(5) == 0 {
                rng.pick(&strangers).to_string()
            } else {
                rng.pick(&known).to_string()
            }
        };
        let step = match rng.below(16) {
            0..=5 => {
                let id = format!("gm-{i}");
                message_ids.push(id.clone());
                let reply_to = if rng.below(4) == 0 {
                    message_ids.first().cloned()
                } else {
                    None
                };
                Step::Message {
                    sender: member(&mut rng),
                    text: rng.pick(&texts).clone(),
                    id: Some(id),
                    mentions: if rng.below(3) == 0 {
                        vec![rng.pick(&known).to_string()]
                    } else {
                        vec![]
                    },
                    reply_to,
                    kind: None,
                }
            }
            6 | 7 if !message_ids.is_empty() => Step::Reaction {
                message: rng.pick(&message_ids).clone(),
                member: member(&mut rng),
                emoji: rng.pick(&["👍", "🧧", "", "❤️"]).to_string(),
            },
            8 | 9 => Step::Join(JoinRequestInput {
                member: format!("{}-{i}", rng.pick(&["applicant", "申请人", "a"])),
                display_name: Some(rng.pick(&["", "Ann", "李雷", "x"]).to_string()),
                invite_code: Some(rng.pick(&["", "AAAAAAAA", "not-a-code", "🙂"]).to_string()),
                // The runner joins with that member's referral code.
                referrer: Some(rng.pick(&known).to_string()),
                referral_code: None,
                answer: Some(rng.pick(&texts).clone()),
                payload: Some(
                    rng.pick(&[
                        json!({}),
                        json!({"submission": "my best photos, taken at dawn"}),
                        json!(null),
                        json!([1, 2]),
                    ])
                    .clone(),
                ),
            }),
            10 => Step::Answer {
                member: format!("applicant-{}", rng.below(i + 1)),
                answer: rng.pick(&texts).clone(),
            },
            11 | 12 => Step::Payment {
                member: rng.pick(&known).to_string(),
                amount: *rng.pick(&amounts),
                status: *rng.pick(PaymentStatus::ALL),
                purpose: rng
                    .pick(&["entry", "", "group-buy:gm-1", "vip"])
                    .to_string(),
                id: Some(format!("gp-{i}")),
            },
            13 => Step::Leave {
                member: rng.pick(&["m2", "stranger", "core"]).to_string(),
            },
            _ => Step::Advance(*rng.pick(&[
                1_000i64,
                60_000,
                3_600_000,
                86_400_000,
                8 * 86_400_000,
                40 * 86_400_000,
            ])),
        };
        out.push(step);
    }
    out
}
