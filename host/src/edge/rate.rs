//! Request rates: a token bucket per key (an API token id, a client IP),
//! kept in memory by each process. With several kith processes behind one
//! address, each applies its own limits.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sustained rate with a burst allowance; a rate of 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, refilled continuously.
    pub per_second: f64,
    /// Requests that may arrive at once after a quiet spell.
    pub burst: f64,
}

impl Rate {
    /// No limit.
    pub const OFF: Rate = Rate {
        per_second: 0.0,
        burst: 0.0,
    };

    fn is_on(self) -> bool {
        self.per_second > 0.0
    }
}

/// The limits of one server: per API token and per client IP.
pub struct RateLimits {
    token: Buckets<String>,
    ip: Buckets<IpAddr>,
}

/// A request over a limit: which one, and when a retry can succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Limited {
    /// What was limited, for the error message.
    pub what: &'static str,
    /// How long until the bucket holds a request again.
    pub retry_after: Duration,
}

impl RateLimits {
    /// Limits with the given rates (either may be [`Rate::OFF`]).
    pub fn new(token: Rate, ip: Rate) -> Self {
        RateLimits {
            token: Buckets::new(token),
            ip: Buckets::new(ip),
        }
    }

    /// Counts a request made with the API token `token_id`.
    ///
    /// # Errors
    /// [`Limited`] when the token's bucket is empty.
    pub fn check_token(&self, token_id: &str) -> Result<(), Limited> {
        self.token
            .take(token_id.to_string())
            .map_err(|retry_after| Limited {
                what: "this API token",
                retry_after,
            })
    }

    /// Counts a request from the client address `ip`.
    ///
    /// # Errors
    /// [`Limited`] when the address's bucket is empty.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Limited> {
        self.ip.take(ip).map_err(|retry_after| Limited {
            what: "this client address",
            retry_after,
        })
    }
}

/// Buckets are dropped once full again, so that many one-off clients
/// cannot grow the map without end; pruning runs when it gets this big.
const PRUNE_AT: usize = 100_000;

struct Buckets<K> {
    rate: Rate,
    map: Mutex<HashMap<K, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, rate: Rate, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate.per_second).min(rate.burst)
    }
}

impl<K: Hash + Eq> Buckets<K> {
    fn new(rate: Rate) -> Self {
        let rate = Rate {
            per_second: rate.per_second,
            burst: rate.burst.max(1.0),
        };
        Buckets {
            rate,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says how long until it
    /// holds one.
    fn take(&self, key: K) -> Result<(), Duration> {
        if !self.rate.is_on() {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.map.lock().expect("rate buckets");
        if map.len() >= PRUNE_AT {
            map.retain(|_, b| b.refilled(self.rate, now) < self.rate.burst);
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: self.rate.burst,
            at: now,
        });
        let tokens = bucket.refilled(self.rate, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            return Ok(());
        }
        Err(Duration::from_secs_f64(
            (1.0 - tokens) / self.rate.per_second,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_retry() {
        let limits = RateLimits::new(
            Rate {
                per_second: 2.0,
                burst: 3.0,
            },
            Rate::OFF,
        );
        for _ in 0..3 {
            limits.check_token("a").unwrap();
        }
        let limited = limits.check_token("a").unwrap_err();
        assert!(limited.retry_after > Duration::from_millis(400));
        assert!(limited.retry_after <= Duration::from_millis(500));
        // Another token, and any address, are not affected.
        limits.check_token("b").unwrap();
        for _ in 0..1000 {
            limits.check_ip("127.0.0.1".parse().unwrap()).unwrap();
        }
    }
}
