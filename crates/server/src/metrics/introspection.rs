//! Calls to an issuer's token introspection endpoint: how many, with what outcome, how long.

use ::metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use portcullis_auth::introspection::{CallOutcome, IntrospectionObserver};
use std::sync::Arc;
use std::time::Duration;

pub const INTROSPECTION_CALLS: &str = "portcullis_introspection_calls_total";
pub const INTROSPECTION_DURATION: &str = "portcullis_introspection_duration_seconds";

/// A loopback answer takes a millisecond, a remote issuer tens to hundreds; the top buckets
/// hold the calls that ran into the timeout.
pub const INTROSPECTION_BUCKETS: &[f64] = &[
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub(super) fn describe() {
    describe_counter!(
        INTROSPECTION_CALLS,
        "Calls to token introspection endpoints by issuer and outcome (cache hits make none)"
    );
    describe_histogram!(
        INTROSPECTION_DURATION,
        Unit::Seconds,
        "Token introspection call time by issuer"
    );
}

#[derive(Debug, Default)]
struct IntrospectionMetrics;

impl IntrospectionObserver for IntrospectionMetrics {
    fn called(&self, issuer: &str, outcome: CallOutcome, elapsed: Duration) {
        counter!(INTROSPECTION_CALLS, "issuer" => issuer.to_owned(), "outcome" => outcome.label())
            .increment(1);
        histogram!(INTROSPECTION_DURATION, "issuer" => issuer.to_owned())
            .record(elapsed.as_secs_f64());
    }
}

/// The observer the verifier builder hands to the introspector.
pub fn introspection_observer() -> Arc<dyn IntrospectionObserver> {
    Arc::new(IntrospectionMetrics)
}
