//! The steps every route goes through, as one tower service per route.
//!
//! Outermost first: the request id and the request's log span
//! (`crate::telemetry::request_id`), the metrics and the access-log line
//! (`crate::metrics::http::track`), problem rewriting (`super::problem::problem_fallback`), the
//! request timeout (503), the body limit (413), and, on the public router, the head-size cap,
//! the per-IP limit (`super::rate_limit`) and the completion of challenges (`super::challenge`).
//!
//! Why one service: `Router::layer` wraps every route in a boxed service per layer, and axum
//! clones a route's whole service for each request, so with a layer per step a request cloned
//! the nested boxes once per level and boxed a future per step: about 90 allocations of the
//! 120 a `/healthz` request made (docs/benchmarks.md, "Lean hot path"). Here the steps are async
//! functions composed into one future, boxed once.

use super::MAX_BODY_BYTES;
use crate::state::AppState;
use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service};

/// The layer: apply with `Router::layer`, once.
#[derive(Debug, Clone)]
pub struct Steps {
    timeout: Duration,
    /// The public router's admission steps (head cap, per-IP limit, challenges); `None` for
    /// [`super::with_common_layers`] alone.
    admission: Option<AppState>,
}

impl Steps {
    /// The steps shared by every router (what `with_common_layers` applies).
    pub fn common(timeout: Duration) -> Self {
        Self {
            timeout,
            admission: None,
        }
    }

    /// The public router's: the common steps and the admission steps.
    pub fn public(timeout: Duration, state: AppState) -> Self {
        Self {
            timeout,
            admission: Some(state),
        }
    }
}

impl<S> Layer<S> for Steps {
    type Service = Stepped<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        Stepped {
            // Extractors and the body limit below agree on one number: Content-Length over the
            // limit is refused before the handler runs, a chunked body when it crosses the limit.
            inner: DefaultBodyLimit::max(MAX_BODY_BYTES).layer(inner),
            shared: Arc::new(self.clone()),
        }
    }
}

/// One route with its steps.
#[derive(Debug, Clone)]
pub struct Stepped<S> {
    inner: S,
    shared: Arc<Steps>,
}

impl<S> Service<Request> for Stepped<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone that was polled ready handles this request (tower's usual swap).
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        let steps = Arc::clone(&self.shared);
        Box::pin(async move {
            let handler = move |req: Request| async move {
                match ready.call(req).await {
                    Ok(res) => res,
                    Err(never) => match never {},
                }
            };
            let res = crate::telemetry::request_id::with_request_id(req, |req| {
                crate::metrics::http::track(req, |req| {
                    super::problem::problem_fallback(req, |req| {
                        within(
                            steps.timeout,
                            limit_body(req, |req| admit(&steps, req, handler)),
                        )
                    })
                })
            })
            .await;
            Ok(res)
        })
    }
}

/// 503 rather than 408 when the response is not ready in time: 408 tells the client it was too
/// slow sending the request, while here the server was too slow answering it; 503 says "retry
/// later", which is true. The deadline is checked first, as tower-http's timeout layer did.
async fn within(timeout: Duration, response: impl Future<Output = Response>) -> Response {
    let deadline = tokio::time::sleep(timeout);
    tokio::select! {
        biased;
        () = deadline => {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            res
        }
        res = response => res,
    }
}

/// Request bodies over [`MAX_BODY_BYTES`] are refused with 413 (README, "Errors"): at once when
/// `Content-Length` says so, else when reading crosses the limit (or the declared length). A
/// body that is already complete (a GET's) is passed on as it is: there is nothing to limit.
async fn limit_body<F>(req: Request, next: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let limit = match declared {
        Some(len) if len > MAX_BODY_BYTES => {
            // What tower-http's limit layer answered; the problem step rewrites it.
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                "length limit exceeded",
            )
                .into_response();
        }
        Some(len) => len.min(MAX_BODY_BYTES),
        None => MAX_BODY_BYTES,
    };
    let req = if req.body().is_end_stream() {
        req
    } else {
        req.map(|body| Body::new(http_body_util::Limited::new(body, limit)))
    };
    next(req).await
}

/// The public router's admission steps, outermost first; none for the common steps alone.
async fn admit<F>(steps: &Steps, req: Request, handler: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let Some(state) = &steps.admission else {
        return handler(req).await;
    };
    super::rate_limit::header_cap(req, |req| async move {
        match state.limits.per_ip() {
            Some(limiter) => {
                super::rate_limit::per_ip(limiter, req, |req| {
                    super::challenge::complete(state, req, handler)
                })
                .await
            }
            None => super::challenge::complete(state, req, handler).await,
        }
    })
    .await
}
