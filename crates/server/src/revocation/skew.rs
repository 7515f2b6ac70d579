//! How far ahead of ours the issuers' clocks run, as seen in the tokens: a token is checked
//! moments after it was minted, so its `iat` minus our time is about the issuer's lead. A
//! logout-all cutoff is our time; a session started at the issuer just before it carries an
//! `iat` (or `auth_time`) later by that lead, so the cutoff comparison adds it. Kept over two
//! ten-minute windows so that one odd token stops counting after a while.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

const WINDOW_SECS: i64 = 600;

#[derive(Debug)]
pub struct IssuerLead {
    /// Upper bound: tokens further ahead than the leeway are refused by the verifier anyway.
    cap: i64,
    /// The lead to apply: the larger of this window's and the previous one's.
    current: AtomicI64,
    /// A copy of `windows.started`, so the common case takes no lock.
    window_started: AtomicI64,
    windows: Mutex<Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    started: i64,
    this: i64,
    previous: i64,
}

impl IssuerLead {
    pub fn new(cap_secs: i64) -> Self {
        Self {
            cap: cap_secs.max(0),
            current: AtomicI64::new(0),
            window_started: AtomicI64::new(0),
            windows: Mutex::new(Windows::default()),
        }
    }

    /// Notes a token's `iat` checked at `now` (both Unix seconds). Costs one atomic load unless
    /// the token is ahead of our clock.
    pub fn observe(&self, iat: Option<i64>, now: i64) {
        let lead = iat.map_or(0, |iat| (iat - now).clamp(0, self.cap));
        let window_over = now - self.window_started.load(Ordering::Relaxed) >= WINDOW_SECS;
        if lead <= self.current.load(Ordering::Relaxed) && !window_over {
            return;
        }
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if now - w.started >= WINDOW_SECS {
            w.previous = if now - w.started >= 2 * WINDOW_SECS {
                0
            } else {
                w.this
            };
            w.this = 0;
            w.started = now;
            self.window_started.store(now, Ordering::Relaxed);
        }
        w.this = w.this.max(lead);
        self.current
            .store(w.this.max(w.previous), Ordering::Relaxed);
    }

    /// Seconds to add to a cutoff before comparing it with a token's session start.
    pub fn secs(&self) -> i64 {
        self.current.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lead_follows_tokens_ahead_of_us_within_the_cap_and_fades() {
        let lead = IssuerLead::new(30);
        lead.observe(Some(1000), 1000);
        assert_eq!(lead.secs(), 0);
        lead.observe(Some(1012), 1000);
        assert_eq!(lead.secs(), 12);
        lead.observe(Some(1005), 1001);
        assert_eq!(lead.secs(), 12, "the largest lead of the window counts");
        lead.observe(Some(5000), 1002);
        assert_eq!(lead.secs(), 30, "capped at the leeway");
        lead.observe(Some(1700), 1700);
        assert_eq!(lead.secs(), 30, "the previous window still counts");
        lead.observe(Some(3000), 3000);
        assert_eq!(lead.secs(), 0, "two quiet windows later it is gone");
    }
}
