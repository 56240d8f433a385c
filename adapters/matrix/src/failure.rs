//! How a call to Matrix or kith failed: worth retrying, or not.

use std::fmt;

/// A failed call. `Transient` (network, 5xx, rate limits that outlasted
/// their retries) is retried with backoff; `Permanent` (a 4xx: forbidden,
/// unknown room, invalid event) would fail the same way again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Transient(String),
    Permanent(String),
}

impl Failure {
    /// Classifies an HTTP error status with the body's explanation.
    pub fn from_status(status: u16, what: String) -> Failure {
        if status >= 500 || status == 429 || status == 408 {
            Failure::Transient(what)
        } else {
            Failure::Permanent(what)
        }
    }

    /// Whether the call may succeed if tried again later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Failure::Transient(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transient(m) => write!(f, "transient: {m}"),
            Failure::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

impl std::error::Error for Failure {}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        // Connection refused, timeouts, a body cut short: the other side may
        // be back soon. A malformed response body is not worth retrying.
        if e.is_decode() {
            Failure::Permanent(e.to_string())
        } else {
            Failure::Transient(e.to_string())
        }
    }
}

/// The result of a call to Matrix or kith.
pub type Result<T> = std::result::Result<T, Failure>;
