//! The example single-page app (`examples/spa/` in the repository), built into the binary and
//! served at `/examples/spa/` under `portcullis dev`.

use super::STRICT_CSP;
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

pub const PATH: &str = "/examples/spa/";

const INDEX: &str = include_str!("../../../../../examples/spa/index.html");
const SCRIPT: &str = include_str!("../../../../../examples/spa/app.js");
const STYLE: &str = include_str!("../../../../../examples/spa/style.css");

pub fn routes() -> Router {
    Router::new()
        .route("/examples/spa", get(|| async { Redirect::permanent(PATH) }))
        .route(
            PATH,
            get(|| async { file(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/examples/spa/app.js",
            get(|| async { file(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/examples/spa/style.css",
            get(|| async { file(STYLE, "text/css; charset=utf-8") }),
        )
}

fn file(body: &'static str, content_type: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CONTENT_SECURITY_POLICY, STRICT_CSP),
            // The authorization code arrives in the query string: never leak it onward.
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
