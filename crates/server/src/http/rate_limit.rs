//! The HTTP side of admission control: a cap on the size of the request head (431), and the
//! per-IP rate limit of `crate::limits::rate` applied around every route (429 with
//! `Retry-After`).

use super::error::ApiError;
use super::problem::Problem;
use crate::limits::rate::{Limiter, RateLimits, ip_key};
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Total size of the request's header names and values (plus 4 bytes per header for the
/// separators) above which the request is refused with 431. Tokens are capped at 8 KiB, so
/// this leaves room for cookies and the usual headers. hyper itself refuses heads over about
/// 400 KiB or with more than 100 headers before we see them.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Adds the head-size cap and, when enabled, the per-IP limit around every route of `router`
/// (fallback included, so scanning unknown paths is limited too).
pub fn layer(router: Router, limits: &RateLimits) -> Router {
    let router = match limits.per_ip() {
        Some(l) => router.layer(from_fn_with_state(Arc::clone(l), per_ip)),
        None => router,
    };
    router.layer(from_fn(header_cap))
}

async fn header_cap(req: Request, next: Next) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        return Problem::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .with_detail("The request headers are too large.")
            .into_response();
    }
    next.run(req).await
}

async fn per_ip(State(limiter): State<Arc<Limiter<IpAddr>>>, req: Request, next: Next) -> Response {
    // Absent only when the router is driven without a listener (tests calling it directly).
    let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return next.run(req).await;
    };
    match limiter.admit(ip_key(peer.ip())) {
        Ok(()) => next.run(req).await,
        Err(retry_after_secs) => {
            crate::metrics::rate_limited("ip");
            crate::metrics::http::note_refused(req.extensions(), "rate_limited_ip");
            ApiError::RateLimited { retry_after_secs }.into_response()
        }
    }
}
