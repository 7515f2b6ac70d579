//! Each proof's `jti` is accepted once. The cache is a trait so that several instances can
//! share one (the server's is Redis); [`MemoryReplay`] is the in-process one.

use async_trait::async_trait;
use std::time::Duration;

/// The replay cache could not answer; the proof is refused (never accepted unchecked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the DPoP replay cache is unavailable: {0}")]
pub struct ReplayUnavailable(pub String);

/// Remembers proof ids. `key` is a digest of the proof's key thumbprint and `jti` (so one
/// client's ids never collide with another's); `ttl` is how long the proof could still pass the
/// `iat` check, past which remembering it is useless.
#[async_trait]
pub trait ReplayCache: Send + Sync + std::fmt::Debug {
    /// `Ok(true)` the first time `key` is seen within `ttl`; `Ok(false)` for a replay.
    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, ReplayUnavailable>;
}

/// One process's memory: correct for one instance; several instances need a shared cache.
#[derive(Debug)]
pub struct MemoryReplay {
    seen: moka::sync::Cache<String, ()>,
}

impl MemoryReplay {
    /// `ttl` is the longest any entry must live (the proof window); `capacity` bounds memory.
    /// Past the capacity the oldest entries go first, which can only re-open proofs that are
    /// about to leave the window anyway when the capacity fits the request rate.
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            seen: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        }
    }
}

#[async_trait]
impl ReplayCache for MemoryReplay {
    async fn first_use(&self, key: &str, _ttl: Duration) -> Result<bool, ReplayUnavailable> {
        // `entry().or_insert` is atomic per key: of two concurrent uses exactly one is fresh.
        Ok(self.seen.entry(key.to_owned()).or_insert(()).is_fresh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_is_fresh_once() {
        let cache = MemoryReplay::new(Duration::from_secs(60), 1000);
        let ttl = Duration::from_secs(60);
        assert_eq!(cache.first_use("a", ttl).await, Ok(true));
        assert_eq!(cache.first_use("a", ttl).await, Ok(false));
        assert_eq!(cache.first_use("b", ttl).await, Ok(true));
    }
}
