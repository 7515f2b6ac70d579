//! `GET /v1/me`: the caller, provisioned on first sight, with their org memberships.

use crate::http::error::ApiError;
use crate::http::extract::Caller;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use portcullis_auth::Rejection;
use portcullis_store::{MembershipSummary, NewUser, UserId};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Me {
    pub id: UserId,
    pub issuer: String,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub memberships: Vec<MembershipSummary>,
}

pub async fn me(
    State(state): State<AppState>,
    Caller(token): Caller,
) -> Result<Json<Me>, ApiError> {
    let claims = &token.claims;
    let upserted = state
        .store
        .upsert_user(
            &NewUser {
                issuer: claims.iss.clone(),
                sub: claims.sub.clone(),
                username: claims.username.clone(),
                email: claims.email.clone(),
                seen: true,
            },
            state.clock.now(),
        )
        .await?;
    let user = upserted.user;
    if user.disabled_at.is_some() {
        return Err(Rejection::UserDisabled.into());
    }
    let memberships = state.store.memberships_of_user(user.id).await?;
    Ok(Json(Me {
        id: user.id,
        issuer: user.issuer,
        sub: user.sub,
        username: user.username,
        email: user.email,
        created_at: user.created_at,
        memberships,
    }))
}
