//! Extractors that authenticate the caller. Handlers take [`Caller`] and never look at headers.

use super::error::ApiError;
use super::state::AppState;
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
        let token = bearer_token(&parts.headers, parts.uri.query())?;
        let verified = state.verifier.verify(token).await?;
        Ok(Caller(verified))
    }
}
