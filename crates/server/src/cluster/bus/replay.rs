//! Refusing a pub/sub envelope seen before. Each instance numbers what it publishes; a
//! receiver keeps, per sender, the highest number seen and which of the 64 below it arrived,
//! so an envelope delivered late (concurrent publishes may overtake each other) is still
//! accepted once, and a copy replayed from a capture never is. Senders not heard from for a
//! while are forgotten; their old envelopes are refused by age instead.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

const WINDOW: u64 = 64;

#[derive(Debug)]
struct Sender {
    highest: u64,
    /// Bit `i` set: `highest - i` has been seen (bit 0 is `highest` itself).
    seen: u64,
    last_heard: Instant,
}

#[derive(Debug, Default)]
pub struct ReplayGuard {
    senders: HashMap<Uuid, Sender>,
}

/// Why an envelope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Seen before.
    Repeated,
    /// So far behind the sender's newest that it can no longer be told apart from a replay.
    TooOld,
}

impl ReplayGuard {
    /// Accepts `counter` from `origin` once. `forget_after` bounds how long a silent sender is
    /// remembered; it must exceed the age after which envelopes are refused anyway.
    pub fn admit(
        &mut self,
        origin: Uuid,
        counter: u64,
        now: Instant,
        forget_after: Duration,
    ) -> Result<(), Replay> {
        if self.senders.len() > 1024 {
            self.senders
                .retain(|_, s| now.duration_since(s.last_heard) < forget_after);
        }
        let Some(s) = self.senders.get_mut(&origin) else {
            self.senders.insert(
                origin,
                Sender {
                    highest: counter,
                    seen: 1,
                    last_heard: now,
                },
            );
            return Ok(());
        };
        s.last_heard = now;
        if counter > s.highest {
            let shift = counter - s.highest;
            s.seen = if shift >= WINDOW { 0 } else { s.seen << shift };
            s.seen |= 1;
            s.highest = counter;
            return Ok(());
        }
        let behind = s.highest - counter;
        if behind >= WINDOW {
            return Err(Replay::TooOld);
        }
        let bit = 1u64 << behind;
        if s.seen & bit != 0 {
            return Err(Replay::Repeated);
        }
        s.seen |= bit;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_counter_is_admitted_once_even_out_of_order() {
        let mut g = ReplayGuard::default();
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let now = Instant::now();
        let keep = Duration::from_secs(60);
        assert_eq!(g.admit(a, 5, now, keep), Ok(()));
        assert_eq!(g.admit(a, 5, now, keep), Err(Replay::Repeated));
        assert_eq!(g.admit(a, 7, now, keep), Ok(()));
        assert_eq!(g.admit(a, 6, now, keep), Ok(()), "late but new");
        assert_eq!(g.admit(a, 6, now, keep), Err(Replay::Repeated));
        assert_eq!(g.admit(a, 5, now, keep), Err(Replay::Repeated));
        assert_eq!(g.admit(b, 5, now, keep), Ok(()), "senders are separate");
        assert_eq!(g.admit(a, 200, now, keep), Ok(()));
        assert_eq!(g.admit(a, 7, now, keep), Err(Replay::TooOld));
        assert_eq!(g.admit(a, 150, now, keep), Ok(()));
        assert_eq!(g.admit(a, 150, now, keep), Err(Replay::Repeated));
    }
}
