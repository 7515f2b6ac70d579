//! The last hour of the auth metrics, per minute, in this process's memory: what the console's
//! Auth health page draws without a Prometheus server. Fed next to the Prometheus series
//! (same events, same labels), so the two never disagree about what happened.
//!
//! One global, like the Prometheus recorder: every app in a process records into it.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// Minutes kept.
pub const MINUTES: usize = 60;
/// Upper bounds (seconds) of the token validation histogram, as in Prometheus.
pub use super::TOKEN_BUCKETS as LATENCY_BUCKETS;

/// One minute's counts.
#[derive(Debug, Clone, Default)]
pub struct Minute {
    /// Unix minute (seconds / 60) these counts belong to.
    pub minute: i64,
    pub auth_success: u64,
    /// Failures by rejection code.
    pub auth_failures: BTreeMap<&'static str, u64>,
    /// Per route template: (requests, 401s, 403s).
    pub routes: BTreeMap<String, (u64, u64, u64)>,
    /// Token validations per latency bucket; the last slot is over the largest bound.
    pub latency: Vec<u64>,
    pub users_created: u64,
}

#[derive(Debug, Default)]
struct Ring {
    slots: Vec<Minute>,
}

fn ring() -> &'static Mutex<Ring> {
    static RING: OnceLock<Mutex<Ring>> = OnceLock::new();
    RING.get_or_init(|| {
        Mutex::new(Ring {
            slots: vec![Minute::default(); MINUTES],
        })
    })
}

fn now_minute() -> i64 {
    let secs = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    secs.div_euclid(60)
}

/// Runs `f` on the current minute's slot, clearing it first if it still holds an older minute.
fn record(f: impl FnOnce(&mut Minute)) {
    let minute = now_minute();
    let mut ring = ring().lock().unwrap_or_else(|p| p.into_inner());
    let i = minute.rem_euclid(MINUTES as i64) as usize;
    let slot = &mut ring.slots[i];
    if slot.minute != minute {
        *slot = Minute {
            minute,
            latency: vec![0; LATENCY_BUCKETS.len() + 1],
            ..Minute::default()
        };
    }
    f(slot);
}

pub fn auth(outcome: Result<(), &'static str>) {
    record(|m| count_auth(m, outcome));
}

pub fn response(route: &str, status: u16) {
    record(|m| count_response(m, route, status));
}

pub fn token_validated(seconds: f64) {
    let i = latency_bucket(seconds);
    record(|m| count_latency(m, i));
}

/// One request, as `super::http::track` sees it when its response is ready: the route and
/// status, the outcome of its token check and how long the verification took, if it had one.
/// The same counts as [`auth`], [`token_validated`] and [`response`], under one lock and one
/// clock read instead of three.
pub fn request(
    route: &str,
    status: u16,
    auth: Option<Result<(), &'static str>>,
    validated: Option<f64>,
) {
    let bucket = validated.map(latency_bucket);
    record(|m| {
        if let Some(outcome) = auth {
            count_auth(m, outcome);
        }
        if let Some(i) = bucket {
            count_latency(m, i);
        }
        count_response(m, route, status);
    });
}

fn count_auth(m: &mut Minute, outcome: Result<(), &'static str>) {
    match outcome {
        Ok(()) => m.auth_success += 1,
        Err(code) => *m.auth_failures.entry(code).or_default() += 1,
    }
}

fn count_response(m: &mut Minute, route: &str, status: u16) {
    // Looked up by `&str` first: the route's `String` is allocated once a minute, not per
    // request.
    if !m.routes.contains_key(route) {
        // A bound on distinct routes; templates are few, so this is never reached in practice.
        if m.routes.len() >= 200 {
            return;
        }
        m.routes.insert(route.to_owned(), (0, 0, 0));
    }
    let Some(e) = m.routes.get_mut(route) else {
        return;
    };
    e.0 += 1;
    match status {
        401 => e.1 += 1,
        403 => e.2 += 1,
        _ => {}
    }
}

fn latency_bucket(seconds: f64) -> usize {
    LATENCY_BUCKETS
        .iter()
        .position(|b| seconds <= *b)
        .unwrap_or(LATENCY_BUCKETS.len())
}

fn count_latency(m: &mut Minute, i: usize) {
    if let Some(c) = m.latency.get_mut(i) {
        *c += 1;
    }
}

pub fn user_created() {
    record(|m| m.users_created += 1);
}

/// The last [`MINUTES`] minutes, oldest first, ending with the current one; minutes without
/// events are empty.
pub fn last_hour() -> Vec<Minute> {
    let now = now_minute();
    let ring = ring().lock().unwrap_or_else(|p| p.into_inner());
    (0..MINUTES as i64)
        .rev()
        .map(|ago| {
            let minute = now - ago;
            let slot = &ring.slots[minute.rem_euclid(MINUTES as i64) as usize];
            if slot.minute == minute {
                slot.clone()
            } else {
                Minute {
                    minute,
                    latency: vec![0; LATENCY_BUCKETS.len() + 1],
                    ..Minute::default()
                }
            }
        })
        .collect()
}

/// The `q` quantile (0..=1) of a bucket histogram, as the bucket's upper bound (Prometheus's
/// `histogram_quantile` interpolates inside the bucket; the upper bound is the safe side).
pub fn quantile(counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(
                LATENCY_BUCKETS
                    .get(i)
                    .copied()
                    .unwrap_or(LATENCY_BUCKETS[LATENCY_BUCKETS.len() - 1] * 2.0),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_bounds() {
        let mut counts = vec![0; LATENCY_BUCKETS.len() + 1];
        counts[2] = 98;
        counts[10] = 2;
        assert_eq!(quantile(&counts, 0.5), Some(LATENCY_BUCKETS[2]));
        assert_eq!(quantile(&counts, 0.99), Some(LATENCY_BUCKETS[10]));
        assert_eq!(quantile(&[0; 3], 0.5), None);
    }
}
