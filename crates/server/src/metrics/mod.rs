//! Prometheus metrics, served only on the private listener (`metrics_listen`), never on the
//! public API.
//!
//! The recorder is process-global (the `metrics` facade has exactly one): it is installed the
//! first time an app is built ([`init`], behind a `OnceLock`) and every app in the process
//! records into it and renders it. The binary runs one app, so this changes nothing there;
//! in-process tests that start many apps share one registry, so they must assert on series
//! they alone produce (their own issuer URL, their own subjects) or on increases, never on
//! absolute totals.
//!
//! Every series, its labels and its meaning:
//!
//! | name | type | labels |
//! |---|---|---|
//! | `portcullis_auth_attempts_total` | counter | `result` = success/failure, `reason` = rejection code (`none` on success) |
//! | `portcullis_users_created_total` | counter | |
//! | `portcullis_user_upsert_conflicts_total` | counter | (see [`user_upserted`]) |
//! | `portcullis_token_validation_duration_seconds` | histogram | `cache` = hit/miss |
//! | `portcullis_http_requests_total` | counter | `method`, `route` (template or `unmatched`), `status` |
//! | `portcullis_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `portcullis_jwks_fetches_total` | counter | `issuer`, `result` |
//! | `portcullis_jwks_age_seconds` | gauge | `issuer` (set at every scrape; `+Inf` before the first load) |
//! | `portcullis_introspection_calls_total` | counter | `issuer`, `outcome` = active/inactive/http_error/timeout/transport_error/bad_response |
//! | `portcullis_introspection_duration_seconds` | histogram | `issuer` |
//! | `portcullis_revocation_backend_errors_total` | counter | |
//! | `portcullis_websocket_connections` | gauge | |
//! | `portcullis_websocket_closes_total` | counter | `code` |
//! | `portcullis_rate_limited_total` | counter | `scope` = ip/user |

pub mod endpoint;
mod handles;
pub mod http;
mod introspection;
pub mod recent;
pub mod upkeep;

pub use endpoint::router;
pub use http::{RequestNotes, track};
pub use introspection::{INTROSPECTION_CALLS, INTROSPECTION_DURATION, introspection_observer};

use ::metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use portcullis_auth::jwks::JwksObserver;
use portcullis_auth::{CacheUse, Rejection};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const AUTH_ATTEMPTS: &str = "portcullis_auth_attempts_total";
pub const USERS_CREATED: &str = "portcullis_users_created_total";
pub const UPSERT_CONFLICTS: &str = "portcullis_user_upsert_conflicts_total";
pub const TOKEN_VALIDATION: &str = "portcullis_token_validation_duration_seconds";
pub const HTTP_REQUESTS: &str = "portcullis_http_requests_total";
pub const HTTP_DURATION: &str = "portcullis_http_request_duration_seconds";
pub const JWKS_FETCHES: &str = "portcullis_jwks_fetches_total";
pub const JWKS_AGE: &str = "portcullis_jwks_age_seconds";
pub const REVOCATION_BACKEND_ERRORS: &str = "portcullis_revocation_backend_errors_total";
pub const WS_CONNECTIONS: &str = "portcullis_websocket_connections";
pub const WS_CLOSES: &str = "portcullis_websocket_closes_total";
pub const RATE_LIMITED: &str = "portcullis_rate_limited_total";
pub const CLUSTER_REJECTED: &str = "portcullis_cluster_rejected_total";
pub const CLUSTER_SYNC_FAILURES: &str = "portcullis_cluster_sync_failures_total";
pub const CLUSTER_APPLIED_SEQ: &str = "portcullis_cluster_applied_seq";

/// A user row that already existed but was created less than this long before our upsert
/// counts as an upsert conflict (see [`user_upserted`]).
pub const CONFLICT_WINDOW: Duration = Duration::from_secs(5);

/// Token verification takes microseconds on a cache hit, tens of microseconds on a signature
/// check, and up to the JWKS fetch timeout when an unknown kid triggers a refetch.
pub const TOKEN_BUCKETS: &[f64] = &[
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const HTTP_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-global recorder once and returns the handle that renders it.
pub fn init() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(TOKEN_VALIDATION.into()), TOKEN_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(INTROSPECTION_DURATION.into()),
                    introspection::INTROSPECTION_BUCKETS,
                )
            });
        let handle = match builder {
            Ok(b) => {
                let recorder = b.build_recorder();
                let handle = recorder.handle();
                if ::metrics::set_global_recorder(recorder).is_err() {
                    // Another recorder owns the facade (an embedding program): /metrics then
                    // renders an empty registry rather than failing.
                    tracing::warn!(
                        "a metrics recorder was already installed; /metrics will be empty"
                    );
                }
                handle
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics buckets rejected; using defaults");
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        describe_and_register();
        handle
    })
}

/// Descriptions, and zero values for the series alerts compare against, so that `rate()` and
/// `increase()` have a series to work on before the first event.
fn describe_and_register() {
    describe_counter!(
        AUTH_ATTEMPTS,
        "Requests that needed a token: result success|failure, reason = rejection code"
    );
    describe_counter!(
        USERS_CREATED,
        "Users provisioned (created) by this instance"
    );
    describe_counter!(
        UPSERT_CONFLICTS,
        "First-sight upserts that found a row created less than 5 s earlier (lost a race)"
    );
    describe_histogram!(
        TOKEN_VALIDATION,
        Unit::Seconds,
        "Token verification time, by verified-token cache hit or miss"
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP responses by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request handling time by method and route template"
    );
    describe_counter!(JWKS_FETCHES, "JWKS fetches by issuer and result");
    describe_gauge!(
        JWKS_AGE,
        Unit::Seconds,
        "Seconds since the issuer last confirmed its keys (+Inf before the first load)"
    );
    describe_counter!(
        REVOCATION_BACKEND_ERRORS,
        "Failed calls to the revocation store (Redis or database)"
    );
    describe_gauge!(WS_CONNECTIONS, "Open WebSocket connections");
    describe_counter!(WS_CLOSES, "WebSocket closes by close code");
    describe_counter!(RATE_LIMITED, "Requests refused with 429, by scope ip|user");
    describe_counter!(
        CLUSTER_REJECTED,
        "Shared key-set copies and Redis messages ignored because a check failed, by kind"
    );
    describe_counter!(
        CLUSTER_SYNC_FAILURES,
        "Catch-ups from the database that failed (revocation checks go to the database meanwhile)"
    );
    describe_gauge!(
        CLUSTER_APPLIED_SEQ,
        "Highest audit sequence whose security changes this instance has applied"
    );

    introspection::describe();

    counter!(USERS_CREATED).absolute(0);
    counter!(UPSERT_CONFLICTS).absolute(0);
    counter!(REVOCATION_BACKEND_ERRORS).absolute(0);
    counter!(CLUSTER_SYNC_FAILURES).absolute(0);
    gauge!(WS_CONNECTIONS).increment(0.0);
    counter!(AUTH_ATTEMPTS, "result" => "success", "reason" => "none").increment(0);
    for scope in ["ip", "user"] {
        counter!(RATE_LIMITED, "scope" => scope).increment(0);
    }
}

/// One request's authentication outcome (counted once per request; see [`http::track`]).
pub fn auth_attempt(outcome: Result<(), Rejection>) {
    let code = outcome.err().map(|r| r.code());
    handles::auth_attempt(code);
    recent::auth(code.map_or(Ok(()), Err));
}

/// Time spent verifying one presented token. A refused token is recorded as a miss: the
/// verifier only says "hit" for a token it answered from its cache, and a refusal either never
/// reached the cache or was dropped from it.
pub fn token_validated(cache: Option<CacheUse>, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    handles::token_validated(cache == Some(CacheUse::Hit), seconds);
    // Inside a request, counted in the last hour with the rest of the request, under one lock.
    if !http::note_validation(seconds) {
        recent::token_validated(seconds);
    }
}

/// Counts the outcome of the (issuer, sub) upsert.
///
/// `created` counts in `portcullis_users_created_total`. With `first_sight` (the upsert made on
/// a principal-cache miss, i.e. a token's subject this instance has not seen in the last
/// minute), a row that already existed but was created less than [`CONFLICT_WINDOW`] before
/// `now` counts as an upsert conflict: another request or instance provisioned the same user
/// concurrently and this one lost the race. The upsert itself is race-free (one row, one
/// `created`); the counter is a race *detector*, a spike of it means many instances seeing a new
/// user at once (or clocks disagreeing between instances and database, which the window absorbs
/// up to 5 s). A returning user whose row is older never counts.
pub fn user_upserted(
    upserted: &portcullis_store::Upserted,
    now: chrono::DateTime<chrono::Utc>,
    first_sight: bool,
) {
    if upserted.created {
        counter!(USERS_CREATED).increment(1);
        recent::user_created();
    } else if first_sight {
        let age = now - upserted.user.created_at;
        if age >= chrono::Duration::zero()
            && age < chrono::Duration::from_std(CONFLICT_WINDOW).unwrap_or_default()
        {
            counter!(UPSERT_CONFLICTS).increment(1);
        }
    }
}

/// For the sessions/revocation code: a call to the revocation backend failed.
pub fn revocation_backend_error() {
    counter!(REVOCATION_BACKEND_ERRORS).increment(1);
}

/// Something shared through Redis failed a check and was ignored.
pub fn cluster_rejected(kind: &'static str) {
    counter!(CLUSTER_REJECTED, "kind" => kind).increment(1);
}

/// A catch-up from the database failed, or succeeded up to `applied`.
pub fn cluster_synced(applied: Option<i64>) {
    match applied {
        Some(seq) => gauge!(CLUSTER_APPLIED_SEQ).set(seq as f64),
        None => counter!(CLUSTER_SYNC_FAILURES).increment(1),
    }
}

/// For the WebSocket code: a socket was accepted (upgraded).
pub fn ws_opened() {
    gauge!(WS_CONNECTIONS).increment(1.0);
}

/// For the WebSocket code: a socket that [`ws_opened`] counted was closed with `code`.
pub fn ws_closed(code: u16) {
    gauge!(WS_CONNECTIONS).decrement(1.0);
    counter!(WS_CLOSES, "code" => code.to_string()).increment(1);
}

/// A request refused with 429; `scope` is `ip` or `user`.
pub fn rate_limited(scope: &'static str) {
    counter!(RATE_LIMITED, "scope" => scope).increment(1);
}

/// Counts every JWKS fetch by issuer and result (`updated`, `not_modified`, `timeout`,
/// `bad_status`, `bad_document`, `error`).
#[derive(Debug, Default)]
pub struct JwksMetrics;

impl JwksObserver for JwksMetrics {
    fn fetched(&self, issuer: &str, result: &'static str) {
        counter!(JWKS_FETCHES, "issuer" => issuer.to_owned(), "result" => result).increment(1);
    }
}

/// The observer to hand to every `JwksCache`.
pub fn jwks_observer() -> Arc<dyn JwksObserver> {
    Arc::new(JwksMetrics)
}

/// Verifies a presented token, timing it (the outcome of the whole check is noted by
/// `crate::access::authenticate`).
pub async fn verify(
    verifier: &portcullis_auth::Verifier,
    token: &str,
) -> Result<Arc<portcullis_auth::Verified>, Rejection> {
    let started = std::time::Instant::now();
    let result = verifier.verify_traced(token).await;
    let elapsed = started.elapsed();
    match result {
        Ok((verified, cache)) => {
            token_validated(Some(cache), elapsed);
            Ok(verified)
        }
        Err(r) => {
            token_validated(None, elapsed);
            Err(r)
        }
    }
}
