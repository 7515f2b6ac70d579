//! `/dev-issuer/faults`: a page to break the dev issuer on purpose (rotate or add keys, take the
//! JWKS down, issue broken tokens, revoke a persona's sessions), and the same as JSON for
//! `portcullis dev-fault`. Every fault is logged and listed on the page.

mod apply;
mod csrf;
mod page;
pub mod request;

use super::STRICT_CSP;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, LOCATION, ORIGIN,
    SET_COOKIE, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use portcullis_dev_issuer::DevIssuer;
use std::sync::Arc;

pub use apply::Status;

pub const PATH: &str = "/dev-issuer/faults";
const STYLE_PATH: &str = "/dev-issuer/faults.css";
const STYLE: &str = include_str!("faults.css");

#[derive(Debug, Clone)]
pub struct Dev {
    state: AppState,
    issuer: Arc<DevIssuer>,
    personas: Arc<[String]>,
}

pub fn routes(state: AppState, issuer: Arc<DevIssuer>, personas: Vec<String>) -> Router {
    Router::new()
        .route(PATH, get(show).post(change))
        .route(STYLE_PATH, get(style))
        .with_state(Dev {
            state,
            issuer,
            personas: personas.into(),
        })
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

async fn show(State(dev): State<Dev>, headers: HeaderMap) -> Result<Response, ApiError> {
    let status = apply::status(&dev);
    if wants_json(&headers) {
        return Ok(Json(status).into_response());
    }
    let (token, set) = match csrf::from_cookie(&headers) {
        Some(token) => (token, false),
        None => (
            csrf::fresh().ok_or_else(|| ApiError::internal("no random source for a CSRF token"))?,
            true,
        ),
    };
    let mut response = html(page::render(&status, &token, &dev.personas));
    if set {
        let cookie =
            HeaderValue::from_str(&csrf::set_cookie(&token)).map_err(ApiError::internal)?;
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    Ok(response)
}

fn html(body: String) -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, STRICT_CSP),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        body,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        STYLE,
    )
        .into_response()
}

/// A request from another origin is refused whatever it carries: the page only ever posts to
/// itself, and the command line sends no `Origin`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok(), host) {
        (Some(origin), Some(host)) => origin == format!("http://{host}"),
        _ => false,
    }
}

async fn change(
    State(dev): State<Dev>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError::ForbiddenBy(
            "faults are changed from this server's own page only",
        ));
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match media.as_deref() {
        // A browser cannot send JSON to another origin without a CORS preflight, which this
        // server never grants: JSON needs no token.
        Some("application/json") => {
            let fields = request::json_fields(&body)?;
            if fields.contains_key("csrf") {
                return Err(request::invalid("csrf", "belongs to the page's forms only"));
            }
            let fault = request::parse(&fields)?;
            apply::apply(&dev, fault).await?;
            Ok(Json(apply::status(&dev)).into_response())
        }
        Some("application/x-www-form-urlencoded") => {
            let fields = request::form_fields(&body)?;
            if !csrf::matches(&headers, fields.get("csrf").map(String::as_str)) {
                return Err(ApiError::ForbiddenBy(
                    "the form's CSRF token does not match: reload the faults page",
                ));
            }
            let fault = request::parse(&fields)?;
            apply::apply(&dev, fault).await?;
            // Post/redirect/get: a reload does not apply the fault twice.
            Ok((
                StatusCode::SEE_OTHER,
                [(LOCATION, HeaderValue::from_static(PATH))],
            )
                .into_response())
        }
        _ => Err(ApiError::UnsupportedMediaType),
    }
}
