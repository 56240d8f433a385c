//! Detectors for the commonest Chinese group spam beyond links and listed
//! words: phone numbers, WeChat ids, QR-code images and the same message
//! sent by several members. Pure functions, unit-tested natively.

use serde::{Deserialize, Serialize};

/// ASCII for full-width digits and letters (０-９, Ａ-Ｚ, ａ-ｚ), which
/// spammers use to slip past filters; everything else unchanged.
fn halfwidth(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// Lower-cased, half-width text.
fn normalize(text: &str) -> String {
    text.chars()
        .map(halfwidth)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the text holds a mainland mobile number (1[3-9] and nine more
/// digits, optionally after 86), its digits possibly split by single
/// spaces, dashes or dots, and not part of a longer number.
pub fn has_phone_number(text: &str) -> bool {
    let mut runs: Vec<String> = vec![String::new()];
    let mut after_separator = false;
    for c in normalize(text).chars() {
        let run = runs.last_mut().expect("one run");
        if c.is_ascii_digit() {
            run.push(c);
            after_separator = false;
        } else if matches!(c, ' ' | '-' | '.') && !run.is_empty() && !after_separator {
            after_separator = true;
        } else {
            runs.push(String::new());
            after_separator = false;
        }
    }
    runs.iter().any(|digits| {
        let digits = match digits.len() {
            13 => digits.strip_prefix("86").unwrap_or(digits),
            _ => digits,
        };
        let b = digits.as_bytes();
        b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
    })
}

/// The WeChat id advertised in the text: one of `markers` (微信, VX,
/// 加V…; case-insensitive), then at most four separators (spaces, colons,
/// 号, 是…), then 6 to 20 letters, digits, `_` or `-`.
pub fn wechat_id(text: &str, markers: &[String]) -> Option<String> {
    let text = normalize(text);
    for marker in markers.iter().map(|m| normalize(m.trim())) {
        if marker.is_empty() {
            continue;
        }
        for (at, _) in text.match_indices(&marker) {
            let rest = text[at + marker.len()..]
                .chars()
                .skip_while(|c| " :：-=＝是号為为#".contains(*c))
                .take(21);
            let id: String = rest
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if (6..=20).contains(&id.len()) {
                return Some(id);
            }
        }
    }
    None
}

/// Whether an image carries a QR code. The 0.1.0 message record has no
/// image metadata, so an adapter that decodes a QR code in an image sends
/// the message with kind `image` and one of `markers` (e.g. `[qr]`) in its
/// text, followed by the decoded payload (see docs/strategies.md).
pub fn is_qr_image(is_image: bool, text: &str, markers: &[String]) -> bool {
    let text = normalize(text);
    is_image
        && markers
            .iter()
            .map(|m| normalize(m.trim()))
            .any(|m| !m.is_empty() && text.contains(&m))
}

/// A recent message: a hash of its normalized text, its sender, its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seen(pub u64, pub String, pub i64);

/// How many recent messages are remembered (the storage value stays small).
pub const REMEMBERED: usize = 200;

/// FNV-1a of the text without case, width or whitespace differences, or
/// None when that is shorter than `min_chars` (greetings repeat innocently).
pub fn fingerprint(text: &str, min_chars: u32) -> Option<u64> {
    let squeezed: String = normalize(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if squeezed.chars().count() < min_chars as usize {
        return None;
    }
    Some(squeezed.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }))
}

/// Adds a message to `recent` (dropping those older than `window_ms` and
/// the oldest past `REMEMBERED`) and returns how many *other* members sent
/// the same text within the window.
pub fn remember(
    recent: &mut Vec<Seen>,
    hash: u64,
    sender: &str,
    now: i64,
    window_ms: i64,
) -> usize {
    recent.retain(|s| now - s.2 < window_ms);
    let mut others: Vec<&str> = recent
        .iter()
        .filter(|s| s.0 == hash && s.1 != sender)
        .map(|s| s.1.as_str())
        .collect();
    others.sort_unstable();
    others.dedup();
    let count = others.len();
    recent.push(Seen(hash, sender.to_string(), now));
    let excess = recent.len().saturating_sub(REMEMBERED);
    recent.drain(..excess);
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        assert!(has_phone_number("出二手镜头 电话 13812345678"));
        assert!(has_phone_number("call 138-1234-5678 now"));
        assert!(has_phone_number("+86 138 1234 5678"));
        assert!(has_phone_number("电话１３８１２３４５６７８"));
        assert!(!has_phone_number("order 12812345678")); // no 12x prefix
        assert!(!has_phone_number("id 138123456789")); // twelve digits
        assert!(!has_phone_number("meet at 13:00, room 1381"));
    }

    #[test]
    fn wechat_ids() {
        let markers: Vec<String> = ["微信", "vx", "加v", "wx"].map(String::from).to_vec();
        assert_eq!(
            wechat_id("有意加V：abc_123", &markers).as_deref(),
            Some("abc_123")
        );
        assert_eq!(
            wechat_id("VX abc12345", &markers).as_deref(),
            Some("abc12345")
        );
        assert_eq!(
            wechat_id("微信号是 lens-shop", &markers).as_deref(),
            Some("lens-shop")
        );
        assert_eq!(wechat_id("我的微信坏了", &markers), None);
        assert_eq!(wechat_id("vx abc", &markers), None); // too short for an id
    }

    #[test]
    fn qr_images() {
        let markers = vec!["[qr]".to_string()];
        assert!(is_qr_image(true, "[QR] https://u.wechat.com/abc", &markers));
        assert!(!is_qr_image(false, "[qr] text only", &markers));
        assert!(!is_qr_image(true, "sunset", &markers));
    }

    #[test]
    fn repeats_across_members() {
        let a = fingerprint("出镜头 便宜", 4).unwrap();
        assert_eq!(fingerprint("出镜头便宜", 4), Some(a));
        assert_eq!(fingerprint("hi", 4), None);
        let mut recent = vec![];
        assert_eq!(remember(&mut recent, a, "amy", 0, 1_000), 0);
        assert_eq!(remember(&mut recent, a, "amy", 1, 1_000), 0); // same member
        assert_eq!(remember(&mut recent, a, "bob", 2, 1_000), 1);
        assert_eq!(remember(&mut recent, a, "cal", 3, 1_000), 2);
        assert_eq!(remember(&mut recent, a, "dan", 5_000, 1_000), 0); // window passed
        for i in 0..300 {
            remember(&mut recent, i, "x", 5_000, 1_000);
        }
        assert_eq!(recent.len(), REMEMBERED);
    }
}
