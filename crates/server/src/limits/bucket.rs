//! One token bucket: `burst` requests at once, refilled at `rate` per second. Shared by the
//! per-IP and per-user request limits and by each WebSocket's message limit.

use std::time::Instant;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token at `now`, or says in how many whole seconds (at least 1) one will be
    /// there. A `now` earlier than the last call (another thread's clock read) refills nothing.
    pub fn take_at(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now.max(self.last);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.rate;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 20.0, t0);
        for _ in 0..20 {
            assert_eq!(b.take_at(t0), Ok(()));
        }
        assert_eq!(b.take_at(t0), Err(1));
        let later = t0 + Duration::from_millis(101);
        assert_eq!(b.take_at(later), Ok(()));
        assert!(b.take_at(later).is_err());
        assert!(
            b.take_at(t0).is_err(),
            "an earlier clock read refills nothing"
        );
    }
}
