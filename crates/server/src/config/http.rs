//! `[http]`: bounds on what one HTTP response may cost the server.

use super::ConfigError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// A list page (resources, audit) stops before its items, serialized, pass this many
    /// bytes, and answers a `next_cursor` for the rest; one item is always returned.
    pub page_max_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            page_max_bytes: 4 * 1024 * 1024,
        }
    }
}

impl HttpConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.page_max_bytes == 0 {
            return Err(ConfigError::setting(
                "http.page_max_bytes",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
