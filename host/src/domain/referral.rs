//! Referral codes: what a member shares so that the friends they bring in
//! are attributed to them. The host issues them (a join request naming a
//! member id attributes nothing), so a referrer cannot be forged.

/// Crockford's base 32: digits and capitals without I, L, O and U, so a
/// code copied by hand is not misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code: 50 bits, so guessing one of a group's codes takes
/// about 10^15 / (members) tries.
pub const REFERRAL_CODE_LEN: usize = 10;

/// The code drawn from 64 random bits (the event's seed for a plugin's
/// request, so a replay draws the same one; fresh randomness for the API).
pub fn referral_code(bits: u64) -> String {
    (0..REFERRAL_CODE_LEN)
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// Whether `code` has a code's shape (checked before any lookup, so a
/// malformed one gets a clear error instead of "unknown").
pub fn is_referral_code(code: &str) -> bool {
    code.len() == REFERRAL_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_shape_they_are_checked_for() {
        for bits in [0, 1, u64::MAX, 0x0123_4567_89ab_cdef] {
            let code = referral_code(bits);
            assert!(is_referral_code(&code), "{code}");
        }
        assert_ne!(referral_code(1), referral_code(2));
        assert!(!is_referral_code("ann"));
        assert!(!is_referral_code("2222222O22"));
    }
}
