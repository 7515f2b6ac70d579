//! An axum service whose routes are protected by `portcullis_auth::layer::AuthLayer`: the
//! layer verifies the bearer token and hands the handlers an `Arc<Verified>` in the request
//! extensions; refusals are RFC 6750 challenges with RFC 9457 bodies.

use axum::routing::get;
use axum::{Extension, Router};
use portcullis_auth::layer::AuthLayer;
use portcullis_auth::provider::Profile;
use portcullis_auth::{Verified, Verifier};
use std::sync::Arc;

/// The scope `/reports` needs on top of a valid token.
pub const REPORTS_SCOPE: &str = "reports:read";

/// A verifier for one Cognito-shaped issuer (such as `portcullis dev`'s embedded issuer) that
/// accepts `client_id`. Plain http is allowed for loopback issuers only.
pub async fn verifier(
    issuer: &str,
    client_id: &str,
) -> Result<Arc<Verifier>, portcullis_auth::builder::BuildError> {
    let profile = Profile {
        region: None,
        user_pool_id: None,
        ..Profile::cognito("", "", [client_id])
    }
    .issuer(issuer);
    let verifier = Verifier::builder()
        .profile(profile)
        .allow_loopback_http(true)
        .build()
        .await?;
    Ok(Arc::new(verifier))
}

async fn me(Extension(verified): Extension<Arc<Verified>>) -> String {
    format!("hello, {}\n", verified.claims.sub)
}

async fn reports(Extension(verified): Extension<Arc<Verified>>) -> String {
    format!("reports for {}\n", verified.claims.sub)
}

/// The routes: `/healthz` open, `/me` for any valid token, `/reports` for tokens with
/// [`REPORTS_SCOPE`].
pub fn app(verifier: Arc<Verifier>) -> Router {
    let signed_in = Router::new()
        .route("/me", get(me))
        .route_layer(AuthLayer::new(Arc::clone(&verifier)));
    let reporting = Router::new()
        .route("/reports", get(reports))
        .route_layer(AuthLayer::new(verifier).require_scopes([REPORTS_SCOPE]));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(signed_in)
        .merge(reporting)
}
