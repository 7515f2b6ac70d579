//! The recorder's periodic upkeep, which a scrape alone cannot be trusted to do.
//!
//! The Prometheus recorder keeps each histogram sample in a lock-free queue until upkeep folds
//! the queue into the histogram's buckets. Upkeep ran only when `/metrics` was scraped, so an
//! instance nobody scraped (metrics not wired up yet, a scraper down for a weekend) kept every
//! sample for ever: RSS grew by 18.5 bytes per `/healthz` request (`bench/load/run.sh`, run 7).
//! The task below folds the queues every few seconds whether or not anyone scrapes; a scrape
//! still folds them first, so it sees every sample.

use std::time::Duration;
use tokio::task::JoinHandle;

/// Often enough that a queue holds seconds of samples, rarely enough to cost nothing: one
/// upkeep takes microseconds.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Runs the process-global recorder's upkeep every `every` until the task is aborted.
pub fn spawn(every: Duration) -> JoinHandle<()> {
    let handle = super::init();
    every_interval(every, move || handle.run_upkeep())
}

/// Calls `f` once per `every`, the first time one `every` from now.
fn every_interval(every: Duration, f: impl Fn() + Send + 'static) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        // After a stall, one upkeep folds everything queued; a burst of catch-up calls would
        // only repeat it.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            f();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn upkeep_runs_every_interval_without_a_scrape() {
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&runs);
        let task = every_interval(INTERVAL, move || {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        tokio::task::yield_now().await;
        assert_eq!(
            runs.load(Ordering::Relaxed),
            0,
            "not before the first interval"
        );
        for expected in 1..=3 {
            tokio::time::sleep(INTERVAL).await;
            tokio::task::yield_now().await;
            assert_eq!(runs.load(Ordering::Relaxed), expected);
        }
        task.abort();
        let _ = task.await;
        tokio::time::sleep(INTERVAL * 2).await;
        assert_eq!(
            runs.load(Ordering::Relaxed),
            3,
            "an aborted task runs no more upkeep"
        );
    }
}
