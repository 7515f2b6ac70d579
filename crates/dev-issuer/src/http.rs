//! The issuer's HTTP face: JWKS and discovery, mountable at `/` or nested.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::DevIssuer;
use crate::controlled::Mode;
use crate::discovery::AUTHORIZE_PATH;

/// Path of the JWKS relative to the issuer URL.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Path of the discovery document relative to the issuer URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Five minutes, like Cognito: long enough to spare the issuer, short enough
/// that a rotation reaches caches that honour it soon.
const CACHE_CONTROL_VALUE: &str = "public, max-age=300";

/// Routes with paths relative to the issuer URL, so the same router works
/// served alone or nested (`Router::new().nest("/dev-issuer", router(i))`,
/// with the issuer URL ending in `/dev-issuer`).
pub fn router(issuer: Arc<DevIssuer>) -> Router {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery))
        .route(AUTHORIZE_PATH, get(authorize))
        .with_state(Arc::clone(&issuer))
        .merge(jwks_router(issuer))
}

/// The JWKS alone, for a host that serves its own discovery document and authorization
/// endpoints next to it (the identity provider of `portcullis dev`).
pub fn jwks_router(issuer: Arc<DevIssuer>) -> Router {
    Router::new().route(JWKS_PATH, get(jwks)).with_state(issuer)
}

async fn jwks(State(issuer): State<Arc<DevIssuer>>, headers: HeaderMap) -> Response {
    if let Some(refused) = outage(&issuer).await {
        return refused;
    }
    // One snapshot for the whole response, so body and ETag always agree even
    // if a rotation lands mid-request.
    let keys = issuer.snapshot();
    let etag = keys.etag();
    let cache = [
        (CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE)),
        (ETAG, header_value(etag)),
    ];
    if none_match(&headers, etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        StatusCode::OK,
        cache,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        keys.jwks_body().to_owned(),
    )
        .into_response()
}

/// The answer of a JWKS outage switched on through [`DevIssuer::faults`]: 503 while it
/// lasts, or nothing after holding the request until a hang ends.
pub(crate) async fn outage(issuer: &DevIssuer) -> Option<Response> {
    match issuer.faults().jwks_mode() {
        Mode::Answer => None,
        Mode::Fail => Some(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            )
                .into_response(),
        ),
        Mode::Hang => {
            issuer.faults().wait_while_hanging().await;
            None
        }
    }
}

async fn discovery(State(issuer): State<Arc<DevIssuer>>) -> Response {
    (
        [(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE))],
        Json(issuer.openid_configuration()),
    )
        .into_response()
}

async fn authorize() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({
            "error": "unsupported_response_type",
            "error_description": "the dev issuer has no sign-in flow; mint tokens with `portcullis token`",
        })),
    )
        .into_response()
}

fn header_value(etag: &str) -> HeaderValue {
    // The ETag is a quoted base64url string, always a valid header value.
    HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2), so `W/"x"`
/// matches `"x"`; `*` matches any current representation.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Serves [`router`] on `127.0.0.1:0` until the task is aborted.
///
/// The issuer URL was fixed before the port was known; when tokens must name
/// this address as `iss`, use [`LoopbackIssuer::start`] instead.
///
/// # Errors
/// When the loopback listener cannot be bound.
pub async fn serve_on_loopback(
    issuer: Arc<DevIssuer>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((addr, spawn(listener, issuer)))
}

/// `http://{addr}{path}`, with a leading slash added to `path` when it lacks one.
pub(crate) fn issuer_url_at(addr: SocketAddr, path: &str) -> String {
    if path.is_empty() || path.starts_with('/') {
        format!("http://{addr}{path}")
    } else {
        format!("http://{addr}/{path}")
    }
}

/// `routes` (whose paths are relative to the issuer URL) served under the issuer's path.
pub(crate) fn mount(path: &str, routes: Router) -> Router {
    let prefix = path.trim_matches('/');
    if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(&format!("/{prefix}"), routes)
    }
}

fn spawn(listener: TcpListener, issuer: Arc<DevIssuer>) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router(issuer)).await {
            tracing::error!(%error, "dev issuer HTTP server stopped");
        }
    })
}

/// An ephemeral issuer served on its own loopback port, with `iss` =
/// `http://127.0.0.1:{port}`. The server stops when this is dropped.
#[derive(Debug)]
pub struct LoopbackIssuer {
    pub issuer: Arc<DevIssuer>,
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LoopbackIssuer {
    /// Binds the port first, then creates the issuer with a URL naming it.
    ///
    /// # Errors
    /// When the listener cannot be bound.
    ///
    /// # Panics
    /// As [`DevIssuer::ephemeral`].
    pub async fn start() -> std::io::Result<Self> {
        Self::start_at("").await
    }

    /// Like [`LoopbackIssuer::start`] with the issuer at `path` on the port
    /// (`/realms/main`, `/oauth2/default`, `/{tenant}/v2.0`, or `/` for an
    /// issuer that ends in a slash as Auth0's do), serving its JWKS and a
    /// discovery document naming that issuer under the path.
    ///
    /// # Errors
    /// When the listener cannot be bound.
    ///
    /// # Panics
    /// As [`DevIssuer::ephemeral`].
    pub async fn start_at(path: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let issuer = Arc::new(DevIssuer::ephemeral(issuer_url_at(addr, path)));
        let app = mount(path, router(Arc::clone(&issuer)));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "dev issuer HTTP server stopped");
            }
        });
        Ok(Self { issuer, addr, task })
    }

    /// The issuer URL (`iss`).
    #[must_use]
    pub fn issuer_url(&self) -> &str {
        self.issuer.issuer_url()
    }

    /// The JWKS URL verifiers should be configured with.
    #[must_use]
    pub fn jwks_uri(&self) -> String {
        self.issuer.jwks_uri()
    }
}

impl Drop for LoopbackIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
