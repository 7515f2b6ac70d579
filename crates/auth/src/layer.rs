//! A `tower::Layer` that verifies the bearer token of every request before the inner service
//! sees it, and puts the `Arc<Verified>` into the request's extensions. The same layer
//! protects an axum router and a tonic gRPC server; only the shape of a refusal differs
//! ([`HttpRefusal`]: RFC 6750 challenge and a problem document; [`GrpcRefusal`]: a gRPC
//! status with a generic message).
//!
//! ```no_run
//! # async fn demo(verifier: std::sync::Arc<portcullis_auth::Verifier>) {
//! use axum::{Extension, Router, routing::get};
//! use portcullis_auth::Verified;
//! use portcullis_auth::layer::AuthLayer;
//! use std::sync::Arc;
//!
//! async fn me(Extension(v): Extension<Arc<Verified>>) -> String {
//!     v.claims.sub.to_string()
//! }
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .layer(AuthLayer::new(verifier).require_scopes(["read"]));
//! # let _ = app; }
//! ```

use crate::bearer::{AuthError, bearer_token};
use crate::rejection::Rejection;
use crate::verifier::{Verified, Verifier};
use axum::http::{HeaderValue, Request, Response, header};
use axum::response::IntoResponse;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Turns a refusal into a response of the protected service's body type.
pub trait Refusal<B>: Clone + Send + Sync + 'static {
    /// The response for `rejection`; never says why beyond the status.
    fn refuse(&self, rejection: Rejection) -> Response<B>;
}

/// HTTP refusals: 401 with `WWW-Authenticate: Bearer ...`, 403 for a missing scope, 503 when
/// an introspection endpoint could not be asked; RFC 9457 bodies, the same for every reason.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRefusal;

impl Refusal<axum::body::Body> for HttpRefusal {
    fn refuse(&self, rejection: Rejection) -> Response<axum::body::Body> {
        AuthError(rejection).into_response()
    }
}

/// gRPC refusals as a trailers-only response: `UNAUTHENTICATED` (16) for a missing or
/// refused token, `PERMISSION_DENIED` (7) for a missing scope, `UNAVAILABLE` (14) when an
/// introspection endpoint could not be asked. The messages are fixed sentences.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcRefusal;

impl GrpcRefusal {
    /// The gRPC status code and message for a refusal.
    pub fn status(rejection: Rejection) -> (u16, &'static str) {
        match rejection {
            Rejection::InsufficientScope => (7, "permission denied"),
            Rejection::IntrospectionUnavailable => (14, "service unavailable"),
            _ => (16, "authentication required"),
        }
    }
}

impl<B: Default> Refusal<B> for GrpcRefusal {
    fn refuse(&self, rejection: Rejection) -> Response<B> {
        tracing::info!(reason = rejection.code(), "token refused");
        let (code, message) = Self::status(rejection);
        let mut resp = Response::new(B::default());
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        headers.insert("grpc-status", HeaderValue::from(code));
        headers.insert("grpc-message", HeaderValue::from_static(message));
        resp
    }
}

/// The layer: a verifier, the scopes every request needs, and how refusals look.
#[derive(Debug, Clone)]
pub struct AuthLayer<R = HttpRefusal> {
    verifier: Arc<Verifier>,
    scopes: Arc<[String]>,
    refusal: R,
}

impl AuthLayer<HttpRefusal> {
    /// A layer for HTTP services (axum routers and anything answering with axum's body).
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self {
            verifier,
            scopes: Arc::from(Vec::new()),
            refusal: HttpRefusal,
        }
    }
}

impl AuthLayer<GrpcRefusal> {
    /// A layer for gRPC services (tonic servers), refusing with gRPC statuses.
    pub fn grpc(verifier: Arc<Verifier>) -> Self {
        AuthLayer::new(verifier).refuse_with(GrpcRefusal)
    }
}

impl<R> AuthLayer<R> {
    /// Requires every one of `scopes` on every request (403 / `PERMISSION_DENIED` otherwise).
    pub fn require_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Shapes refusals with `refusal` instead.
    pub fn refuse_with<R2>(self, refusal: R2) -> AuthLayer<R2> {
        AuthLayer {
            verifier: self.verifier,
            scopes: self.scopes,
            refusal,
        }
    }
}

impl<S, R: Clone> tower_layer::Layer<S> for AuthLayer<R> {
    type Service = RequireAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuth {
            inner,
            verifier: Arc::clone(&self.verifier),
            scopes: Arc::clone(&self.scopes),
            refusal: self.refusal.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct RequireAuth<S, R> {
    inner: S,
    verifier: Arc<Verifier>,
    scopes: Arc<[String]>,
    refusal: R,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, R, ReqB, ResB> tower_service::Service<Request<ReqB>> for RequireAuth<S, R>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    R: Refusal<ResB>,
    ReqB: Send + 'static,
    ResB: 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<ResB>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        // The clone is the one made ready by `poll_ready`; the copy left behind waits for the
        // next `poll_ready`.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let verifier = Arc::clone(&self.verifier);
        let scopes = Arc::clone(&self.scopes);
        let refusal = self.refusal.clone();
        Box::pin(async move {
            // Owned, so that the request body need not be `Sync` across the await.
            let token = bearer_token(req.headers(), req.uri().query()).map(str::to_owned);
            let verdict = verify(&verifier, &scopes, token).await;
            match verdict {
                Ok(verified) => {
                    req.extensions_mut().insert(verified);
                    inner.call(req).await
                }
                Err(rejection) => Ok(refusal.refuse(rejection)),
            }
        })
    }
}

async fn verify(
    verifier: &Verifier,
    scopes: &[String],
    token: Result<String, Rejection>,
) -> Result<Arc<Verified>, Rejection> {
    let verified = verifier.verify(&token?).await?;
    if scopes.iter().all(|s| verified.claims.has_scope(s)) {
        Ok(verified)
    } else {
        Err(Rejection::InsufficientScope)
    }
}
