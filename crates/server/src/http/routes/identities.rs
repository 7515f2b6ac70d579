//! Linking an identity at another issuer to an existing user (platform admins only): the way a
//! person keeps their user, orgs and history when they move to another identity provider. See
//! docs/providers.md, "Migrating off Cognito".

use crate::http::change::context;
use crate::http::error::ApiError;
use crate::http::guard::PlatformAdmin;
use crate::http::input::{Body, UserPath, invalid_field, rules};
use crate::http::openapi as doc;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

/// The identity to link: the `iss` and `sub` its tokens carry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIdentity {
    /// At most 1024 bytes.
    #[schema(min_length = 1)]
    pub issuer: String,
    /// At most 255 bytes.
    #[schema(min_length = 1)]
    pub sub: String,
}

rules!(LinkIdentity {
    issuer: rules::ISSUER,
    sub: rules::SUB,
});

#[utoipa::path(post, path = "/v1/admin/users/{user_id}/identities", tag = "sessions", params(doc::UserParams), request_body = LinkIdentity,
    responses(
        (status = 201, description = "Linked (platform admins only): tokens of this identity are the user's from now on.", body = portcullis_store::Identity),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn link(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    UserPath(user): UserPath,
    Body(body): Body<LinkIdentity>,
) -> Result<(StatusCode, Json<portcullis_store::Identity>), ApiError> {
    if !rules::issuer_ok(&body.issuer) {
        return Err(invalid_field("/issuer", rules::ISSUER));
    }
    if portcullis_store::validate::sub(&body.sub).is_err() {
        return Err(invalid_field("/sub", rules::SUB));
    }
    let identity = state
        .store
        .link_identity(&context(&state, &admin), user, &body.issuer, &body.sub)
        .await?;
    // Recorded as a change of the user, so every instance drops what it cached for them.
    state.changes.committed().await;
    Ok((StatusCode::CREATED, Json(identity)))
}
