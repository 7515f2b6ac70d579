//! The request-path hooks of the auth flags, called from the extractors in `http::extract`:
//! `auth.client_ids` (after verification) and `revocation.check_reads` (whether the revocation
//! check runs for this request). `jit.provisioning` is applied where the principal is resolved
//! (`crate::access`).

use crate::state::AppState;
use axum::http::Method;
use portcullis_auth::{Rejection, Verified};

/// `auth.client_ids`: a token of an app client that is no longer accepted is an invalid token.
/// Only tokens of the issuers that name their client in `client_id` are concerned; the others
/// are matched by audience.
pub fn check_client(state: &AppState, token: &Verified) -> Result<(), Rejection> {
    if !state.client_issuers.iter().any(|i| *i == *token.claims.iss)
        || state
            .flags
            .client_accepted(token.claims.client_id.as_deref())
    {
        Ok(())
    } else {
        Err(Rejection::WrongClient)
    }
}

/// `revocation.check_reads`: whether the revocation check runs for a request with `method`.
/// Writes are always checked; reads (GET, HEAD) only while the flag is on.
pub fn check_revocation(state: &AppState, method: &Method) -> bool {
    let read = *method == Method::GET || *method == Method::HEAD;
    !read || state.flags.revocation_check_reads()
}
