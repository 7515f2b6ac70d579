//! Request rates (OWASP API4, unrestricted resource consumption): a token bucket per client IP
//! before authentication, and one per user after it.
//!
//! - Rates are `rate_limit.per_ip` and `rate_limit.per_user`, sustained requests per second;
//!   `0` turns that limit off. The burst (bucket size) is twice the rate, at least 1 request:
//!   a page that fires a dozen calls at once is not refused, a client that keeps going above
//!   the rate is, within a second or two.
//! - Refusals are 429 problem documents with `Retry-After` (whole seconds until a request
//!   would be admitted, at least 1) and count in `portcullis_rate_limited_total{scope}`.
//! - The client IP is the TCP peer address. `X-Forwarded-For` and `Forwarded` are never
//!   trusted (any client can send them): behind a load balancer every request shares the
//!   balancer's address, so either turn `per_ip` off and limit at the proxy, or rely on
//!   `per_user`. IPv6 peers are keyed by their /64, which is what one host usually gets.
//! - Buckets live in a bounded in-process map (100 000 keys per scope, entries idle longer
//!   than it takes to refill are dropped, which loses nothing). Limits are per instance: N
//!   instances admit N times the rate.
//! - The per-IP check runs before any extractor (`crate::http::rate_limit`), so garbage tokens
//!   are limited before they cost a signature check; the per-user check runs in
//!   `CallerPrincipal`, right after the caller is known.

use super::bucket::TokenBucket;
use crate::config::RateLimitConfig;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_KEYS: u64 = 100_000;

#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    per_ip: Option<Arc<Limiter<IpAddr>>>,
    per_user: Option<Arc<Limiter<uuid::Uuid>>>,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            per_ip: Limiter::new(config.per_ip).map(Arc::new),
            per_user: Limiter::new(config.per_user).map(Arc::new),
        }
    }

    /// The per-user check, once the caller is known; `Err` holds the seconds until a request
    /// would be admitted.
    pub fn check_user(&self, ext: &axum::http::Extensions, user: uuid::Uuid) -> Result<(), u64> {
        crate::metrics::http::note_user(ext, user);
        match &self.per_user {
            Some(l) => l.admit(user).inspect_err(|_| {
                crate::metrics::rate_limited("user");
                crate::metrics::http::note_refused(ext, "rate_limited_user");
            }),
            None => Ok(()),
        }
    }

    /// The per-IP limiter, when enabled (the HTTP layer applies it before any extractor).
    pub fn per_ip(&self) -> Option<&Arc<Limiter<IpAddr>>> {
        self.per_ip.as_ref()
    }
}

/// IPv4 as is (IPv4-mapped IPv6 folded back to IPv4); IPv6 by its /64.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Token buckets by key in a bounded map.
pub struct Limiter<K: Hash + Eq + Send + Sync + 'static> {
    rate: f64,
    burst: f64,
    buckets: moka::sync::Cache<K, Arc<Mutex<TokenBucket>>>,
}

impl<K: Hash + Eq + Send + Sync + 'static> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Limiter<K> {
    /// `None` when `per_second` is 0 (the limit is off).
    pub fn new(per_second: u32) -> Option<Self> {
        if per_second == 0 {
            return None;
        }
        let rate = f64::from(per_second);
        let burst = (rate * 2.0).max(1.0);
        // A bucket idle for longer than a full refill is indistinguishable from a new one.
        let refill = Duration::from_secs_f64(burst / rate) + Duration::from_secs(1);
        Some(Self {
            rate,
            burst,
            buckets: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_idle(refill)
                .build(),
        })
    }

    /// Takes one token for `key`, or says in how many whole seconds one will be available.
    pub fn admit(&self, key: K) -> Result<(), u64> {
        self.admit_at(key, Instant::now())
    }

    fn admit_at(&self, key: K, now: Instant) -> Result<(), u64> {
        let bucket = self.buckets.get_with(key, || {
            Arc::new(Mutex::new(TokenBucket::new(self.rate, self.burst, now)))
        });
        let mut b = bucket.lock().unwrap_or_else(|p| p.into_inner());
        b.take_at(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_off() {
        assert!(Limiter::<u8>::new(0).is_none());
    }

    #[test]
    fn burst_then_refusal_then_refill() {
        let l = Limiter::<u8>::new(2).expect("on");
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(l.admit_at(1, t0), Ok(()));
        }
        assert_eq!(l.admit_at(1, t0), Err(1));
        // Another key has its own bucket.
        assert_eq!(l.admit_at(2, t0), Ok(()));
        // Half a second at 2/s refills one token.
        assert_eq!(l.admit_at(1, t0 + Duration::from_millis(500)), Ok(()));
        assert_eq!(l.admit_at(1, t0 + Duration::from_millis(500)), Err(1));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let l = Limiter::<u8>::new(1).expect("on");
        let t0 = Instant::now();
        assert!(l.admit_at(1, t0).is_ok() && l.admit_at(1, t0).is_ok());
        assert_eq!(l.admit_at(1, t0), Err(1));
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(ip_key(mapped), "192.0.2.1".parse::<IpAddr>().expect("ip"));
    }
}
