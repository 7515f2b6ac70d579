//! Store failures, classified by what the caller should do about them. The messages are for
//! logs only; the HTTP layer maps each variant to a generic problem document.

use std::error::Error as StdError;

pub type StoreResult<T> = Result<T, StoreError>;

type Source = Box<dyn StdError + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, belongs to another org, or is soft-deleted.
    #[error("not found")]
    NotFound,
    /// The caller's role, read with the rows concerned locked, does not allow the change.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// A uniqueness rule would be broken (for example a membership that already exists).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Optimistic concurrency: the caller's expected version is not the current one.
    #[error("version mismatch: current version is {current}")]
    VersionMismatch { current: i64 },
    /// The input breaks a rule of the data model (checked before any SQL runs).
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// The database cannot be reached or refused the connection; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Source),
    /// Anything else: a bug, a broken invariant, or a database error we did not expect.
    #[error("database error: {0}")]
    Internal(#[source] Source),
}

impl StoreError {
    pub fn internal(e: impl Into<Source>) -> Self {
        Self::Internal(e.into())
    }

    pub fn unavailable(e: impl Into<Source>) -> Self {
        Self::Unavailable(e.into())
    }
}
