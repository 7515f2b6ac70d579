//! Ending sessions: the caller's own (`logout`), all of the caller's (`logout-all`), and, for
//! platform admins, another user's, plus disabling and enabling users. Each is audited by the
//! store and announced to every instance.

use crate::http::change::context;
use crate::http::error::ApiError;
use crate::http::extract::CallerPrincipal;
use crate::http::guard::PlatformAdmin;
use crate::http::input::UserPath;
use crate::http::openapi as doc;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_store::User;

/// Ends the session of the token used (its refresh session when it names one).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "sessions",
    responses(
        (status = 204, description = "This token's session is over; the token is refused from now on."),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    CallerPrincipal(me): CallerPrincipal,
) -> Result<StatusCode, ApiError> {
    state.revocations.logout(&context(&state, &me), &me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller started up to now, on every device.
#[utoipa::path(post, path = "/v1/auth/logout-all", tag = "sessions",
    responses(
        (status = 204, description = "Every token of the caller issued up to now is refused from now on."),
        (status = 409, response = doc::Conflict),
    ))]
pub async fn logout_all(
    State(state): State<AppState>,
    CallerPrincipal(me): CallerPrincipal,
) -> Result<StatusCode, ApiError> {
    state
        .revocations
        .revoke_user(&context(&state, &me), &me.identity.user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn target(state: &AppState, user: portcullis_store::UserId) -> Result<User, ApiError> {
    state.store.get_user(user).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/v1/admin/users/{user_id}/revoke-sessions", tag = "sessions", params(doc::UserParams),
    responses(
        (status = 204, description = "Every token of the user issued up to now is refused (platform admins only)."),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    UserPath(user): UserPath,
) -> Result<StatusCode, ApiError> {
    let user = target(&state, user).await?;
    state
        .revocations
        .revoke_user(&context(&state, &admin), &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(
    state: &AppState,
    admin: &crate::principal::Principal,
    user: portcullis_store::UserId,
    disabled: bool,
) -> Result<Json<User>, ApiError> {
    target(state, user).await?;
    let user = state
        .revocations
        .set_disabled(&context(state, admin), user, disabled)
        .await?;
    Ok(Json(user))
}

#[utoipa::path(post, path = "/v1/admin/users/{user_id}/disable", tag = "sessions", params(doc::UserParams),
    responses(
        (status = 200, description = "The user, disabled: every request of theirs is refused (platform admins only).", body = User),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn disable(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    UserPath(user): UserPath,
) -> Result<Json<User>, ApiError> {
    set_disabled(&state, &admin, user, true).await
}

#[utoipa::path(post, path = "/v1/admin/users/{user_id}/enable", tag = "sessions", params(doc::UserParams),
    responses(
        (status = 200, description = "The user, enabled again (platform admins only).", body = User),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn enable(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    UserPath(user): UserPath,
) -> Result<Json<User>, ApiError> {
    set_disabled(&state, &admin, user, false).await
}
