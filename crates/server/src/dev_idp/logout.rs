//! `GET /logout`, Cognito style (`client_id` and a registered `logout_uri`; the OpenID names
//! `post_logout_redirect_uri` and `state` are read too): ends the browser's session, revoking
//! every refresh family signed in through it at the server as `POST /v1/auth/logout` would,
//! then sends the browser back.

use super::Idp;
use super::cookies;
use super::form::Params;
use super::page;
use super::token::revoke_family;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn logout(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(params) = Params::parse(query.unwrap_or_default().as_bytes()) else {
        return bad("A parameter is given more than once.");
    };
    let Some(client) = params.get("client_id").and_then(|id| idp.clients.get(id)) else {
        return bad("The client_id is missing or names no registered client.");
    };
    let target = params
        .get("logout_uri")
        .or_else(|| params.get("post_logout_redirect_uri"));
    if let Some(uri) = target
        && !idp.clients.logout_allowed(client, uri)
    {
        return bad(
            "The logout_uri is not registered for this client; the browser is not sent to it.",
        );
    }
    if let Some(browser) = cookies::read(&headers, cookies::SESSION) {
        for family in idp.browsers.end(&browser) {
            revoke_family(&idp, &family, "signed out").await;
        }
    }
    let mut res = match target.and_then(|t| url::Url::parse(t).ok()) {
        Some(mut url) => {
            if let Some(state) = params.get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            let mut res = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(url.as_str()) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        None => page::signed_out(),
    };
    if let Ok(v) = HeaderValue::from_str(&cookies::clear(cookies::SESSION, &idp.cookie_path())) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn bad(message: &str) -> Response {
    page::error(StatusCode::BAD_REQUEST, "Invalid sign-out request", message)
}
