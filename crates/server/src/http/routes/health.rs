//! Liveness and readiness probes.

use crate::http::error::ApiError;
use crate::http::openapi as doc;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::time::Duration;

/// A probe that hangs is worse than one that fails: orchestrators time out and count that as
/// failure anyway, and a hung probe holds a connection.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// `{"status": "ok"}` / `{"status": "ready"}`.
#[derive(Debug, utoipa::ToSchema)]
pub struct ProbeStatus {
    pub status: String,
}

/// The process is up and serving HTTP. Deliberately checks nothing else, so that a database
/// outage never gets the process restarted (it recovers on its own).
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive.", body = ProbeStatus)))]
pub async fn healthz() -> impl IntoResponse {
    // What `Json(json!({"status": "ok"}))` sends, without building and serializing a map on
    // every probe.
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        r#"{"status":"ok"}"#,
    )
}

/// Ready to serve traffic: migrations have run, the database answers, every issuer's keys are
/// loaded (a token cannot be verified before they are), and Redis, when configured, has been
/// reached once.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve traffic.", body = ProbeStatus),
        (status = 503, response = doc::ServiceUnavailable),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if !state.verifier.keys_ready() {
        return Err(ApiError::unavailable("issuer keys are not loaded"));
    }
    if !state.readiness.is_migrated() {
        return Err(ApiError::unavailable(
            "database migrations have not completed",
        ));
    }
    if !state.changes.ready() {
        return Err(ApiError::unavailable(
            "Redis has not been reached, or security changes not caught up, yet",
        ));
    }
    // Live: the in-memory view is current (caught up within the sync interval, and after the
    // Redis subscription came up); fallback: every check goes to the database until it is.
    let events = if state.revocations.trusted() {
        "live"
    } else {
        "database_fallback"
    };
    match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready", "events": events }))),
        // Whatever the ping failed with, the answer to "ready?" is no.
        Ok(Err(e)) => Err(ApiError::unavailable(e)),
        Err(_) => Err(ApiError::unavailable("database ping timed out")),
    }
}
