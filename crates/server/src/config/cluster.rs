//! `cluster_secret` and `[cluster]`: what lets several instances share Redis without trusting it.
//! See docs/sessions.md, "What Redis can and cannot do".

use super::ConfigError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// The key that authenticates everything instances share through Redis (HMAC-SHA256). Shown
/// nowhere: `Debug`, `Display` and `check-config` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSecret(String);

/// HMAC-SHA256 keys shorter than the hash give less than its strength.
pub const MIN_CLUSTER_SECRET_BYTES: usize = 32;

impl ClusterSecret {
    pub fn new(raw: impl Into<String>) -> Result<Self, String> {
        let raw = raw.into();
        if raw.len() < MIN_CLUSTER_SECRET_BYTES {
            return Err(format!(
                "must be at least {MIN_CLUSTER_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)"
            ));
        }
        Ok(Self(raw))
    }

    /// The key bytes, for the MAC only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for ClusterSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

// The error text never includes the value.
impl<'de> Deserialize<'de> for ClusterSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::new(raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Every instance reads the security changes it has not applied yet (revocations, cutoffs,
    /// disables, membership and flag changes) from the database this often, whatever Redis
    /// does: the bound on how long a change takes to reach every instance.
    pub sync_interval_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            sync_interval_ms: 1000,
        }
    }
}

impl ClusterConfig {
    pub fn sync_interval(&self) -> Duration {
        Duration::from_millis(self.sync_interval_ms)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(50..=60_000).contains(&self.sync_interval_ms) {
            return Err(ConfigError::setting(
                "cluster.sync_interval_ms",
                "must be between 50 and 60000",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_none_is_ever_shown() {
        let e = ClusterSecret::new("too-short-a-secret").expect_err("short");
        assert!(e.contains("32 bytes") && !e.contains("too-short"), "{e}");
        let s = ClusterSecret::new("x".repeat(32)).expect("32 bytes will do");
        assert_eq!(format!("{s:?}"), "\"***\"");
        assert_eq!(serde_json::to_string(&s).expect("serializes"), "\"***\"");
    }
}
