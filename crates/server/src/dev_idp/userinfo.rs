//! `GET|POST /oauth2/userInfo`: the signed-in user's profile for a valid, unrevoked access
//! token of this issuer, as Cognito's userInfo endpoint answers it.

use super::Idp;
use crate::http::problem::OwnErrorFormat;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

pub async fn userinfo(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
    else {
        return challenge("Bearer");
    };
    let invalid = || challenge("Bearer error=\"invalid_token\"");
    let Ok(verified) = idp.app.verifier.verify(token).await else {
        return invalid();
    };
    let claims = &verified.claims;
    if claims.iss != idp.issuer.issuer_url() {
        return invalid();
    }
    let user = match idp.app.store.find_user(&claims.iss, &claims.sub).await {
        Ok(user) => user,
        Err(_) => return unavailable(),
    };
    let checked = match idp.app.revocations.check_token(claims).await {
        Ok(()) => match &user {
            Some(user) => idp.app.revocations.check_user(user, claims).await,
            None => Ok(()),
        },
        Err(e) => Err(e),
    };
    match checked {
        Ok(()) => {}
        Err(crate::revocation::Refusal::Rejected(_)) => return invalid(),
        Err(crate::revocation::Refusal::Unavailable(_)) => return unavailable(),
    }
    let persona = idp.persona(&claims.sub);
    let username = claims
        .username
        .as_deref()
        .or_else(|| persona.map(|p| p.username()))
        .unwrap_or(&claims.sub)
        .to_owned();
    let email = persona.map_or_else(|| format!("{username}@example.com"), |p| p.email());
    let mut body = json!({
        "sub": claims.sub,
        "username": username,
        "email": email,
        "email_verified": true,
    });
    if !verified.groups.is_empty() {
        body["cognito:groups"] = json!(verified.groups);
    }
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

fn unavailable() -> Response {
    let mut res = StatusCode::SERVICE_UNAVAILABLE.into_response();
    res.extensions_mut().insert(OwnErrorFormat);
    res
}

fn challenge(value: &'static str) -> Response {
    let mut res = (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, HeaderValue::from_static(value))],
    )
        .into_response();
    res.extensions_mut().insert(OwnErrorFormat);
    res
}
