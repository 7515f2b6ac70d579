//! `[rate_limit]`: token buckets before and after authentication.

use serde::{Deserialize, Serialize};

/// Sustained requests per second; `0` turns a limit off. The defaults leave room for a busy
/// single-page app (bursts of parallel calls) while stopping a single client from flooding
/// the token verifier or the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Before authentication, per client IP: also bounds the cost of garbage tokens.
    pub per_ip: u32,
    /// After authentication, per user.
    pub per_user: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_ip: 50,
            per_user: 20,
        }
    }
}
