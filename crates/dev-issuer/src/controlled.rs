//! An issuer whose JWKS endpoint a test controls: it answers normally, fails with 503, or
//! hangs (the issuer's own JWKS faults, without an end), and counts the fetches it serves. For
//! tests of key caches under issuer failure.

use crate::DevIssuer;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How the JWKS endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Answer,
    /// 503.
    Fail,
    /// No answer until the mode changes.
    Hang,
}

#[derive(Debug)]
pub struct ControlledIssuer {
    pub issuer: Arc<DevIssuer>,
    pub addr: SocketAddr,
    fetches: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    issuer: Arc<DevIssuer>,
    fetches: Arc<AtomicUsize>,
}

async fn jwks(State(s): State<Shared>) -> Response {
    s.fetches.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = crate::http::outage(&s.issuer).await {
        return refused;
    }
    axum::Json(s.issuer.jwks()).into_response()
}

async fn discovery(State(s): State<Shared>) -> Response {
    axum::Json(s.issuer.openid_configuration()).into_response()
}

impl ControlledIssuer {
    /// Binds a loopback port and serves `/.well-known/jwks.json` (controlled) and the discovery
    /// document of an ephemeral issuer named `http://127.0.0.1:{port}`.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_at("").await
    }

    /// Like [`ControlledIssuer::start`] with the issuer at `path` on the port (see
    /// [`LoopbackIssuer::start_at`](crate::LoopbackIssuer::start_at)): both documents are
    /// served under the path, and discovery names `http://127.0.0.1:{port}{path}`.
    pub async fn start_at(path: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let issuer = Arc::new(DevIssuer::ephemeral(crate::http::issuer_url_at(addr, path)));
        let shared = Shared {
            issuer: Arc::clone(&issuer),
            fetches: Arc::new(AtomicUsize::new(0)),
        };
        let routes = Router::new()
            .route(crate::JWKS_PATH, get(jwks))
            .route(crate::DISCOVERY_PATH, get(discovery))
            .with_state(shared.clone());
        let app = crate::http::mount(path, routes);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            issuer,
            addr,
            fetches: shared.fetches,
            server,
        })
    }

    pub fn issuer_url(&self) -> &str {
        self.issuer.issuer_url()
    }

    pub fn set(&self, mode: Mode) {
        self.issuer.faults().set_jwks(mode, None);
    }

    /// JWKS requests served so far, whatever the mode.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for ControlledIssuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}
