//! Bounds on what comes in from outside: money amounts and balances, event
//! times, and text the databases can store. HTTP and dispatch both check
//! through these, so the API and the service refuse the same things.

use super::Millis;

/// The largest amount of one payment or transfer, in minor units (10^15:
/// ten trillion yuan in fen), far below where sums of many could overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// The largest balance an account that cannot go negative may hold.
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000;

/// How far before the server's clock an event's `at` may be (ten years:
/// an adapter replaying history).
pub const MAX_EVENT_AGE_MS: Millis = 10 * 366 * 24 * 3_600_000;

/// How far after the server's clock an event's `at` may be (one year:
/// platforms with skewed clocks, and tests that run ahead of a fixed clock).
pub const MAX_EVENT_LEAD_MS: Millis = 366 * 24 * 3_600_000;

/// Checks a payment or transfer amount against [`MAX_AMOUNT`] (each caller
/// refuses a non-positive amount with its own message).
///
/// # Errors
/// A message naming the bound, for a 422.
pub fn check_amount(amount: i64) -> Result<(), String> {
    if amount > MAX_AMOUNT {
        return Err(format!(
            "amount {amount} is above the ceiling of {MAX_AMOUNT} minor units"
        ));
    }
    Ok(())
}

/// The balance after receiving `amount`, if it stays within [`MAX_BALANCE`].
///
/// # Errors
/// A message naming the bound when the sum would pass it (or overflow).
pub fn credited(account: &str, balance: i64, amount: i64) -> Result<i64, String> {
    balance
        .checked_add(amount)
        .filter(|b| *b <= MAX_BALANCE)
        .ok_or_else(|| {
            format!(
                "{account} holds {balance}; receiving {amount} would pass the balance ceiling of {MAX_BALANCE}"
            )
        })
}

/// Checks an event's time against the server's clock `now`.
///
/// # Errors
/// A message naming the window when `at` is outside it.
pub fn check_event_time(at: Millis, now: Millis) -> Result<(), String> {
    let earliest = now.saturating_sub(MAX_EVENT_AGE_MS);
    let latest = now.saturating_add(MAX_EVENT_LEAD_MS);
    if at < earliest || at > latest {
        return Err(format!(
            "at {at} is outside the accepted window [{earliest}, {latest}] \
             (ten years before to one year after the server's clock, epoch milliseconds)"
        ));
    }
    Ok(())
}

/// Whether a JSON text holds an escaped NUL (`\u0000`): Postgres cannot
/// store U+0000 in text, so it is refused on both databases alike. A raw
/// NUL byte cannot appear in valid JSON text, and `\\u0000` is a
/// backslash followed by text, not a NUL.
pub fn json_has_nul(text: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"u0000";
    text.windows(ESCAPE.len())
        .enumerate()
        .filter(|(_, w)| *w == ESCAPE)
        .any(|(i, _)| {
            let backslashes = text[..i].iter().rev().take_while(|b| **b == b'\\').count();
            backslashes % 2 == 1
        })
}

/// Whether a text holds U+0000 (see [`json_has_nul`]).
pub fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_nul_is_found_and_escaped_backslashes_are_not() {
        assert!(json_has_nul(br#"{"a":"x\u0000"}"#));
        assert!(json_has_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"a":"\\u0000"}"#));
        assert!(!json_has_nul(br#"{"a":"u0000"}"#));
    }

    #[test]
    fn balances_and_times_stay_in_bounds() {
        assert_eq!(credited("a", 1, 2), Ok(3));
        assert!(credited("a", MAX_BALANCE, 1).is_err());
        assert!(credited("a", i64::MAX, i64::MAX).is_err());
        assert!(check_amount(MAX_AMOUNT).is_ok() && check_amount(MAX_AMOUNT + 1).is_err());
        let now = 1_800_000_000_000;
        assert!(check_event_time(now, now).is_ok());
        assert!(check_event_time(-1, now).is_err());
        assert!(check_event_time(i64::MAX, now).is_err());
        assert!(check_event_time(i64::MIN, now).is_err());
    }
}
