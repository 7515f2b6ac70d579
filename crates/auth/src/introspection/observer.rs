//! What an introspection call came to, for metrics.

use std::time::Duration;

/// The outcome of one call to an introspection endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// `active: true`.
    Active,
    /// `active: false`.
    Inactive,
    /// A status other than 200 (401 when our client credentials are refused, 5xx, ...).
    HttpError,
    /// No answer within the timeout.
    Timeout,
    /// The connection failed.
    Transport,
    /// A 200 whose body is no introspection answer (not JSON, too large, no boolean `active`).
    BadResponse,
}

impl CallOutcome {
    /// The `outcome` label of the metrics.
    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::Active => "active",
            CallOutcome::Inactive => "inactive",
            CallOutcome::HttpError => "http_error",
            CallOutcome::Timeout => "timeout",
            CallOutcome::Transport => "transport_error",
            CallOutcome::BadResponse => "bad_response",
        }
    }

    /// Every outcome, for registering metric series up front.
    pub const ALL: [CallOutcome; 6] = [
        CallOutcome::Active,
        CallOutcome::Inactive,
        CallOutcome::HttpError,
        CallOutcome::Timeout,
        CallOutcome::Transport,
        CallOutcome::BadResponse,
    ];
}

/// Told about every call to an introspection endpoint (cache hits make none).
pub trait IntrospectionObserver: Send + Sync + std::fmt::Debug {
    /// One call to `issuer`'s endpoint ended with `outcome` after `elapsed`.
    fn called(&self, issuer: &str, outcome: CallOutcome, elapsed: Duration);
}
