//! `GET /v1/me`: the caller, provisioned on first sight, with their org memberships.

use crate::http::error::ApiError;
use crate::http::extract::CallerPrincipal;
use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portcullis_store::{MembershipSummary, UserId};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: UserId,
    /// `iss` and `sub` of the token used.
    pub issuer: String,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub memberships: Vec<MembershipSummary>,
}

#[utoipa::path(get, path = "/v1/me", tag = "me",
    responses((status = 200, description = "The caller, with their org memberships.", body = Me)))]
pub async fn me(CallerPrincipal(me): CallerPrincipal) -> Result<Response, ApiError> {
    let i = &me.identity;
    // Serialized from borrowed fields: [`Me`] is the documented shape, this the same fields in
    // the same order without copying the caller's strings and memberships first.
    let body = MeRef {
        id: i.user.id,
        // The identity the caller signed in with, which is the user's only identity unless
        // others were linked to it.
        issuer: &me.token.claims.iss,
        sub: &me.token.claims.sub,
        username: i.user.username.as_deref(),
        email: i.user.email.as_deref(),
        created_at: i.user.created_at,
        memberships: &i.memberships,
    };
    // Rendered once per cached identity (`Identity::me_body`): the same bytes `Json` writes.
    let rendered = i.me_body(body.issuer, body.sub, || {
        serde_json::to_vec(&body).ok().map(Bytes::from)
    });
    Ok(match rendered {
        Some(bytes) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        None => Json(body).into_response(),
    })
}

#[derive(Serialize)]
struct MeRef<'a> {
    id: UserId,
    issuer: &'a str,
    sub: &'a str,
    username: Option<&'a str>,
    email: Option<&'a str>,
    created_at: DateTime<Utc>,
    memberships: &'a [MembershipSummary],
}
