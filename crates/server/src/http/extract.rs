//! Extractors that authenticate the caller. Handlers take [`CallerPrincipal`] (or a guard built
//! on it) and never look at headers.

use super::error::ApiError;
use super::state::AppState;
use crate::principal::Principal;
use crate::sessions::Refusal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis_auth::bearer::bearer_token;
use portcullis_auth::{Rejection, Verified};
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
        crate::flags::policy::check_client(state, &verified)
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
        // `jit.provisioning` flag: unknown users are refused, not provisioned, while it is off.
        crate::flags::policy::admit(state, &token).await?;
        let identity = state
            .principals
            .identity(
                &state.store,
                &token,
                state.clock.now(),
                state.sessions.bus().in_sync(),
            )
            .await
            .map_err(ApiError::from_shared_store_error)?;
        if identity.user.disabled_at.is_some() {
            crate::metrics::http::note_auth(&parts.extensions, Err(Rejection::UserDisabled));
            return Err(Rejection::UserDisabled.into());
        }
        state
            .limits
            .check_user(&parts.extensions, identity.user.id.0)?;
        let platform_admin = token.groups.iter().any(|g| *g == *state.admin_group);
        let principal = Principal {
            identity,
            token,
            platform_admin,
        };
        // `revocation.check_reads` flag: reads may skip the revocation check.
        let check = if crate::flags::policy::check_revocation(state, &parts.method) {
            state.sessions.check(&principal).await
        } else {
            Ok(())
        };
        match check {
            Ok(()) => {
                crate::mfa::enforce_caller(state, parts, &principal)?;
                Ok(CallerPrincipal(principal))
            }
            Err(Refusal::Rejected(r)) => {
                crate::metrics::http::note_auth(&parts.extensions, Err(r));
                Err(r.into())
            }
            Err(Refusal::Unavailable(e)) => Err(ApiError::unavailable(e)),
        }
    }
}
