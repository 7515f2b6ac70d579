// Shared by both backends (see README.md beside this file).

/// Classifies a driver error. Connection-level failures are `Unavailable` (HTTP 503, retry
/// later); everything else is `Internal` and is logged, never shown to a client.
pub(crate) fn db_err(e: sqlx::Error) -> portcullis_store::StoreError {
    use portcullis_store::StoreError;
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::unavailable(e),
        other => StoreError::internal(other),
    }
}

/// Like [`db_err`], but a unique-constraint violation becomes `Conflict(what)`.
pub(crate) fn conflict_or(
    what: &'static str,
) -> impl FnOnce(sqlx::Error) -> portcullis_store::StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            portcullis_store::StoreError::Conflict(what)
        }
        _ => db_err(e),
    }
}
