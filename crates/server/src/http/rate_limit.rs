//! The HTTP side of admission control: a cap on the size of the request head (431), and the
//! per-IP rate limit of `crate::limits::rate` applied around every route (429 with
//! `Retry-After`).

use super::error::ApiError;
use super::problem::Problem;
use crate::limits::rate::{Limiter, ip_key};
use crate::listen::Peer;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::net::IpAddr;

/// Total size of the request's header names and values (plus 4 bytes per header for the
/// separators) above which the request is refused with 431. Tokens are capped at 8 KiB, so
/// this leaves room for cookies and the usual headers. hyper itself refuses heads over about
/// 400 KiB or with more than 100 headers before we see them.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The head-size cap, around every route of the public router (fallback included), before the
/// per-IP limit (`super::stack`).
pub async fn header_cap<F>(req: Request, next: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
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
    next(req).await
}

/// The per-IP limit, when enabled, around every route (fallback included, so scanning unknown
/// paths is limited too).
pub async fn per_ip<F>(
    limiter: &Limiter<IpAddr>,
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response
where
    F: Future<Output = Response>,
{
    // Absent only when the router is driven without a listener (tests calling it directly).
    let Some(peer) = req.extensions().get::<Peer>().map(|p| p.addr) else {
        return next(req).await;
    };
    match limiter.admit(ip_key(peer.ip())) {
        Ok(()) => next(req).await,
        Err(retry_after_secs) => {
            crate::metrics::rate_limited("ip");
            crate::metrics::http::note_refused(req.extensions(), "rate_limited_ip");
            ApiError::RateLimited { retry_after_secs }.into_response()
        }
    }
}
