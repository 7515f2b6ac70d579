//! `database_url`'s default and `[database]`: the connection pool.

use super::ConfigError;
use super::secret::DatabaseUrl;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./.portcullis/portcullis.db";

pub(super) fn default_database_url() -> DatabaseUrl {
    DatabaseUrl::parse(DEFAULT_DATABASE_URL)
        .unwrap_or_else(|_| unreachable!("the default database URL is valid"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    /// How long a query waits for a pooled connection before the request fails with 503.
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout_secs: 3,
        }
    }
}

impl DatabaseConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_connections == 0 {
            return Err(ConfigError::setting(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    pub fn connect_options(&self) -> portcullis_store::ConnectOptions {
        portcullis_store::ConnectOptions {
            max_connections: self.max_connections,
            acquire_timeout: Duration::from_secs(self.acquire_timeout_secs),
        }
    }
}
