//! Per-request accounting: the HTTP metrics, the authentication outcome, and the one access-log
//! line of every request.
//!
//! [`track`] puts an empty [`RequestNotes`] into the request; the authentication extractors and
//! the rate limiter write what they learn into it (the user, the rejection reason), and when the
//! response is ready `track` records the metrics and logs one line:
//!
//! `{"message":"request","request_id":..,"method":..,"route":..,"status":..,"latency_ms":..,
//! "user_id":..,"reason":..}`
//!
//! The route is the matched template (`/v1/orgs/{org_id}/resources`), never the raw path, and
//! nothing else of the URI (a query string may carry a cursor or, from a careless client, a
//! token) nor any header is logged.

use super::auth_attempt;
use crate::telemetry::request_id::RequestId;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use portcullis_auth::Rejection;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the handling of one request learned about its caller.
#[derive(Debug, Clone, Default)]
pub struct RequestNotes(Arc<Mutex<Notes>>);

#[derive(Debug, Default)]
struct Notes {
    /// The token's verification outcome, the last one written wins (a disabled user's valid
    /// token ends as `user_disabled`).
    auth: Option<Result<(), Rejection>>,
    user_id: Option<uuid::Uuid>,
    /// `rate_limited_ip` / `rate_limited_user`.
    refused: Option<&'static str>,
    /// How long the token's verification took (seconds), for the last hour's latencies.
    validated: Option<f64>,
}

tokio::task_local! {
    /// The notes of the request being handled on this task, for code that has no access to
    /// the request ([`note_validation`]).
    static CURRENT: RequestNotes;
}

impl RequestNotes {
    fn with<R>(&self, f: impl FnOnce(&mut Notes) -> R) -> R {
        let mut n = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut n)
    }
}

/// Records the authentication outcome of a request. Inside [`track`] it is counted once, when
/// the response is ready; elsewhere (no notes in the extensions) it is counted now.
pub fn note_auth(ext: &axum::http::Extensions, outcome: Result<(), Rejection>) {
    match ext.get::<RequestNotes>() {
        Some(n) => n.with(|n| n.auth = Some(outcome)),
        None => auth_attempt(outcome),
    }
}

/// The authenticated user, for the access log.
pub fn note_user(ext: &axum::http::Extensions, user: uuid::Uuid) {
    if let Some(n) = ext.get::<RequestNotes>() {
        n.with(|n| n.user_id = Some(user));
    }
}

/// Why the request was refused before a handler ran (rate limits), for the access log.
pub fn note_refused(ext: &axum::http::Extensions, why: &'static str) {
    if let Some(n) = ext.get::<RequestNotes>() {
        n.with(|n| n.refused = Some(why));
    }
}

/// Records how long a token's verification took, to be counted with the rest of the request
/// when its response is ready. Returns false outside [`track`] (or for a second verification
/// of one request): the caller counts it itself then.
pub fn note_validation(seconds: f64) -> bool {
    CURRENT
        .try_with(|n| {
            n.with(|n| match n.validated {
                None => {
                    n.validated = Some(seconds);
                    true
                }
                Some(_) => false,
            })
        })
        .unwrap_or(false)
}

/// A bounded method label: anything outside the standard methods is `other`.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The accounting step of every request (see the module docs; `crate::http::stack`). It runs
/// inside the router, after routing, so the matched route template is in the request's
/// extensions.
pub async fn track<F>(mut req: Request, next: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let started = Instant::now();
    let method = method_label(req.method());
    // axum keeps the template in an `Arc<str>`: cloning the extension shares it.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let request_id = req.extensions().get::<RequestId>().copied();
    let notes = RequestNotes::default();
    req.extensions_mut().insert(notes.clone());

    let res = CURRENT.scope(notes.clone(), next(req)).await;

    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let (auth, user_id, refused, validated) =
        notes.with(|n| (n.auth, n.user_id, n.refused, n.validated));
    let code = auth.map(|outcome| outcome.map_err(|r| r.code()));
    if let Some(outcome) = code {
        super::handles::auth_attempt(outcome.err());
    }
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    super::handles::http_request(method, route, status, elapsed.as_secs_f64());
    super::recent::request(route, status, code, validated);

    // Written out on the stack: `Display` for a UUID goes through the formatting machinery.
    let mut user_buf = uuid::Uuid::encode_buffer();
    let user_id = user_id.map(|u| &*u.hyphenated().encode_lower(&mut user_buf));
    let reason = match auth {
        Some(Err(r)) => Some(r.code()),
        _ => refused,
    };
    // A 5xx is the server's failure (a timeout, the database): logged at WARN so that log
    // alerting on level sees it; its cause, if any, is in an ERROR line under the same id.
    macro_rules! access_line {
        ($level:expr) => {
            tracing::event!(
                $level,
                request_id = request_id.map(tracing::field::display),
                method,
                route,
                status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                user_id = user_id.map(tracing::field::display),
                reason,
                "request"
            )
        };
    }
    if status >= 500 {
        access_line!(tracing::Level::WARN);
    } else {
        access_line!(tracing::Level::INFO);
    }
    res
}
