//! The request-path hooks of the auth flags, called from the extractors in `http::extract`:
//! `auth.client_ids` (after verification), `jit.provisioning` (before the principal is loaded)
//! and `revocation.check_reads` (whether the revocation check runs for this request).

use crate::http::{ApiError, AppState};
use axum::http::Method;
use portcullis_auth::{Rejection, Verified};

/// `auth.client_ids`: a token of an app client that is no longer accepted is an invalid token.
pub fn check_client(state: &AppState, token: &Verified) -> Result<(), Rejection> {
    if state
        .flags
        .client_accepted(token.claims.client_id.as_deref())
    {
        Ok(())
    } else {
        Err(Rejection::WrongClient)
    }
}

/// `jit.provisioning`: with provisioning off, a token whose (issuer, sub) has no user row is
/// refused with 403 before anything is written. Users already known (signed in before, or
/// pre-provisioned by `POST /v1/orgs/{org_id}/members` with their `sub`) are let through.
pub async fn admit(state: &AppState, token: &Verified) -> Result<(), ApiError> {
    if state.flags.jit_provisioning() {
        return Ok(());
    }
    let c = &token.claims;
    if state.principals.knows(&c.iss, &c.sub) {
        return Ok(());
    }
    match state.store.find_user(&c.iss, &c.sub).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::Forbidden),
    }
}

/// `revocation.check_reads`: whether the revocation check runs for a request with `method`.
/// Writes are always checked; reads (GET, HEAD) only while the flag is on.
pub fn check_revocation(state: &AppState, method: &Method) -> bool {
    let read = *method == Method::GET || *method == Method::HEAD;
    !read || state.flags.revocation_check_reads()
}
