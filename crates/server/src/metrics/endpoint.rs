//! `GET /metrics` on the private listener: the Prometheus text exposition of the process-global
//! registry. JWKS ages are gauges of time, so they are computed at scrape time.

use super::JWKS_AGE;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use portcullis_auth::Verifier;
use std::sync::Arc;

/// The metrics router for one app. Installs the recorder if this is the first app of the
/// process (see the module docs of [`crate::metrics`]).
pub fn router(verifier: Arc<Verifier>) -> Router {
    super::init();
    Router::new()
        .route("/metrics", get(render))
        .with_state(verifier)
}

async fn render(State(verifier): State<Arc<Verifier>>) -> impl IntoResponse {
    for provider in verifier.providers() {
        let status = provider.keys().status();
        let age = status.age_secs.map_or(f64::INFINITY, |s| s.max(0) as f64);
        ::metrics::gauge!(JWKS_AGE, "issuer" => provider.issuer().to_owned()).set(age);
    }
    let handle = super::init();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}
