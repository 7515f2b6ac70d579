//! Domain types and the narrow Store traits that every Portcullis database backend implements.
//!
//! The backends (`portcullis-store-sqlite`, `portcullis-store-postgres`) own their SQL and
//! migrations; everything that must behave identically on both (validation, audit diffs, the
//! audit hash chain, pagination rules) lives here so it is written once.
#![forbid(unsafe_code)]

pub mod audit_chain;
pub mod context;
pub mod diff;
pub mod error;
pub mod ids;
pub mod model;
pub mod page;
pub mod traits;
pub mod validate;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use context::ChangeContext;
pub use error::{StoreError, StoreResult};
pub use ids::{AuditId, OrgId, ResourceId, UserId, new_id};
pub use model::*;
pub use page::{Page, PageRequest};
pub use traits::*;

/// How a backend sizes and bounds its connection pool.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// How long a query waits for a connection before failing with `Unavailable`; kept short so
    /// that `/readyz` and requests fail fast while the database is down.
    pub acquire_timeout: std::time::Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(3),
        }
    }
}
