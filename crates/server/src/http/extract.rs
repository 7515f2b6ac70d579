//! Extractors that authenticate the caller. Handlers take [`CallerPrincipal`] (or a guard built
//! on it) and never look at headers.

use super::error::ApiError;
use crate::access::{Freshness, NotAdmitted, resolve_principal};
use crate::principal::Principal;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis_auth::Verified;
use portcullis_auth::bearer::bearer_token;
use std::sync::Arc;

/// A caller whose bearer token passed every check of the verifier.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Verified>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(Caller(v)) = parts.extensions.get::<Caller>() {
            return Ok(Caller(Arc::clone(v)));
        }
        let token = bearer_token(&parts.headers, parts.uri.query())
            .inspect_err(|r| crate::metrics::http::note_auth(&parts.extensions, Err(*r)))?;
        let verified = crate::metrics::verify(&state.verifier, token, &parts.extensions).await?;
        // `auth.client_ids` flag: the accepted app clients, narrowed at run time.
        crate::access::flags::check_client(state, &verified)
            .inspect_err(|r| crate::metrics::http::note_auth(&parts.extensions, Err(*r)))?;
        // Several extractors of one request may ask; the token is verified once.
        parts.extensions.insert(Caller(Arc::clone(&verified)));
        Ok(Caller(verified))
    }
}

/// The caller as a Portcullis user: provisioned on first sight, with their memberships, from
/// the principal cache. Disabled users are refused here, on every route.
#[derive(Debug, Clone)]
pub struct CallerPrincipal(pub Principal);

impl FromRequestParts<AppState> for CallerPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(token) = Caller::from_request_parts(parts, state).await?;
        let check = crate::access::flags::check_revocation(state, &parts.method);
        let principal = match resolve_principal(state, token, Freshness::Cached, check).await {
            Ok(p) => p,
            Err(NotAdmitted::Rejected(r)) => {
                crate::metrics::http::note_auth(&parts.extensions, Err(r));
                return Err(r.into());
            }
            Err(NotAdmitted::NotProvisioned) => return Err(ApiError::Forbidden),
            Err(NotAdmitted::Unavailable(e)) => return Err(ApiError::from_shared_store_error(e)),
        };
        // Counted only once the token is known to be good: a revoked token spends nothing.
        state
            .limits
            .check_user(&parts.extensions, principal.user_id().0)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        crate::access::mfa::enforce_caller(state, parts, &principal)?;
        Ok(CallerPrincipal(principal))
    }
}
