//! Who is changing something, under which request, and when.

use crate::ids::UserId;
use chrono::{DateTime, Utc};

/// Passed to every mutating store call. The store writes it into the audit row that it appends
/// in the same transaction as the change, so a change can never land without its audit row.
#[derive(Debug, Clone)]
pub struct ChangeContext {
    /// `None` for changes made by the operator through the CLI (purge, migrations).
    pub actor: Option<UserId>,
    pub request_id: String,
    /// Time comes from the caller's injected clock, never from the database's `now()`, so that
    /// tests can control it and both backends record the same instant.
    pub at: DateTime<Utc>,
}

impl ChangeContext {
    pub fn new(actor: Option<UserId>, request_id: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            actor,
            request_id: request_id.into(),
            at: truncate_to_micros(at),
        }
    }
}

/// PostgreSQL keeps microseconds; truncating here makes both backends return exactly the instant
/// they were given.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}
