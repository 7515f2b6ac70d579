//! The extractor that authenticates a request. Handlers take [`CallerPrincipal`] (or a guard
//! built on it) and never look at headers; the checks themselves are `crate::access`.

use super::error::ApiError;
use crate::access::{Door, Presented, authenticate};
use crate::principal::Principal;
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;

/// The caller as a Portcullis user: their token verified, their session not revoked,
/// provisioned on first sight, with their memberships, and within their per-user rate.
#[derive(Debug, Clone)]
pub struct CallerPrincipal(pub Principal);

impl FromRequestParts<AppState> for CallerPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Several extractors of one request (a guard and the handler) may ask: checked once.
        if let Some(done) = parts.extensions.get::<CallerPrincipal>() {
            return Ok(done.clone());
        }
        let door = Door::Request {
            method: &parts.method,
            route: parts
                .extensions
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
        };
        let presented = Presented::from_request(parts);
        let principal = authenticate(state, presented, door, &parts.extensions).await?;
        // Counted only once the token is known to be good: a revoked token spends nothing.
        state
            .limits
            .check_user(&parts.extensions, principal.user_id().0)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        let caller = CallerPrincipal(principal);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
