//! `POST /oauth2/revoke` (RFC 7009): a refresh token ends its whole family; an access token of
//! this issuer ends its session (`origin_jti`) as `POST /v1/auth/logout` would. Unknown and
//! invalid tokens are answered 200, as the RFC asks.

use super::Idp;
use super::client_auth::authenticate;
use super::form::Params;
use super::oauth_error::{OAuthError, no_store};
use super::token::revoke_family;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn revoke(State(idp): State<Arc<Idp>>, headers: HeaderMap, body: Bytes) -> Response {
    match run(&idp, &headers, &body).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn run(idp: &Idp, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    let params = Params::parse(body).map_err(|name| {
        OAuthError::invalid_request(format!("the parameter {name} is given more than once"))
    })?;
    let client = authenticate(idp, headers, &params)?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    if let Some((family, owner)) = idp.refresh.owner(token) {
        if owner != client.id {
            return Err(OAuthError::invalid_grant(
                "the token was issued to another client",
            ));
        }
        return finish(revoke_family(idp, &family, "revoked by the client").await);
    }
    // An access token: only one of this issuer's, issued to this client, is acted on.
    let Ok(verified) = idp.app.verifier.verify(token).await else {
        return Ok(());
    };
    let claims = &verified.claims;
    if claims.iss != idp.issuer.issuer_url() || claims.client_id.as_deref() != Some(&client.id) {
        return Ok(());
    }
    match &claims.origin_jti {
        Some(origin) => {
            finish(revoke_family(idp, origin, "access token revoked by the client").await)
        }
        None => Ok(()),
    }
}

fn finish(done: bool) -> Result<(), OAuthError> {
    if done {
        Ok(())
    } else {
        // RFC 7009 §2.2.1: the client may retry later.
        Err(OAuthError::temporarily_unavailable(
            "the revocation could not be recorded; retry",
        ))
    }
}
