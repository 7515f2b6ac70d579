//! A fresh UUIDv7 for every request, in the request's extensions, in a task-local for code that
//! has no access to the request (`ApiError::into_response`), in the `x-request-id` header of
//! every response, whatever produced it (a handler, a 404, a 413, a timeout), and in the
//! `request` span that every log line written while handling the request carries. The span
//! holds the id only: method, route and status are in the request's access line
//! (`crate::metrics::http`), and formatting them into every span cost CPU on every request.
//!
//! A client-sent `x-request-id` is ignored and overwritten: the id ends up in logs and in the
//! append-only audit trail, and accepting it would let a client forge or collide ids there, or
//! inject arbitrary text into log lines.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use std::fmt;
use std::future::Future;
use tracing::Instrument;
use uuid::Uuid;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub Uuid);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

impl RequestId {
    /// The id of the request being handled on this task, if any. Work spawned onto another task
    /// must carry the id explicitly.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(|id| *id).ok()
    }
}

/// The outermost step of every request (`crate::http::stack`): `next` runs with the id in the
/// task-local and inside the request's span.
pub async fn with_request_id<F>(mut req: Request, next: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let id = RequestId(Uuid::now_v7());
    let value = header_value(id);
    req.headers_mut()
        .insert(X_REQUEST_ID.clone(), value.clone());
    req.extensions_mut().insert(id);
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = CURRENT.scope(id, next(req)).instrument(span).await;
    res.headers_mut().insert(X_REQUEST_ID.clone(), value);
    res
}

fn header_value(id: RequestId) -> HeaderValue {
    // Formatted on the stack: one allocation (the header's bytes) per request rather than two.
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.0.hyphenated().encode_lower(&mut buf);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}
