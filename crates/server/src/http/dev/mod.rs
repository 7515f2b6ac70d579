//! What only `portcullis dev` serves besides the issuer itself: the faults page and the
//! example single-page app. Mounted only when the embedded dev issuer is in use.

pub mod examples;
pub mod faults;

use crate::state::AppState;
use axum::Router;
use axum::http::HeaderValue;
use portcullis_dev_issuer::DevIssuer;
use std::sync::Arc;

/// For pages made of the server's own files only: no inline script or style, no other origin,
/// no framing, forms posting back to this origin only.
pub const STRICT_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
);

/// The faults page (`/dev-issuer/faults`) and the example app (`/examples/spa/`); `personas`
/// are the subs the faults page offers for revocation.
pub fn routes(state: AppState, issuer: Arc<DevIssuer>, personas: Vec<String>) -> Router {
    faults::routes(state, issuer, personas).merge(examples::routes())
}
