//! A real HTTP issuer whose JWKS endpoint the test controls: it can answer normally, fail with
//! 500, or hang; and it counts the fetches it serves.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use portcullis_auth::Verifier;
use portcullis_auth::clock::ManualClock;
use portcullis_auth::jwks::{HttpJwks, JwksCache, JwksConfig, http_client};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{Cognito, Provider};
use portcullis_dev_issuer::DevIssuer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

pub const OK: u8 = 0;
pub const FAIL: u8 = 1;
pub const HANG: u8 = 2;

#[derive(Debug)]
pub struct Controlled {
    pub issuer: Arc<DevIssuer>,
    pub mode: AtomicU8,
    pub fetches: AtomicUsize,
}

impl Controlled {
    pub fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks(State(c): State<Arc<Controlled>>) -> Response {
    c.fetches.fetch_add(1, Ordering::SeqCst);
    match c.mode.load(Ordering::SeqCst) {
        FAIL => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        HANG => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        _ => axum::Json(c.issuer.jwks()).into_response(),
    }
}

/// A verifier for one Cognito-shaped issuer served by a controlled endpoint, on a manual clock.
pub struct Setup {
    pub control: Arc<Controlled>,
    pub clock: ManualClock,
    pub verifier: Arc<Verifier>,
    pub cache_config: JwksConfig,
    pub provider: Arc<Cognito>,
}

pub async fn setup() -> Setup {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let control = Arc::new(Controlled {
        issuer: Arc::new(DevIssuer::ephemeral(url.clone())),
        mode: AtomicU8::new(OK),
        fetches: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(Arc::clone(&control));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let clock = ManualClock::new(Utc::now());
    let cache_config = JwksConfig {
        fetch_timeout: Duration::from_millis(500),
        ..JwksConfig::default()
    };
    let client = http_client(cache_config.fetch_timeout).expect("client");
    let keys = Arc::new(JwksCache::new(
        url.clone(),
        Box::new(HttpJwks::new(client, Cognito::jwks_url(&url))),
        Arc::new(clock.clone()),
        cache_config.clone(),
    ));
    let provider = Arc::new(Cognito::new(url, ["portcullis-dev".to_owned()], keys));
    let verifier = Verifier::new(
        vec![Arc::clone(&provider) as Arc<dyn Provider>],
        Arc::new(clock.clone()),
        Policy::default(),
    )
    .expect("verifier");
    Setup {
        control,
        clock,
        verifier: Arc::new(verifier),
        cache_config,
        provider,
    }
}

impl Setup {
    /// Loads the keys once, as start-up does.
    pub async fn load(&self) {
        self.provider.keys().refresh().await.expect("first load");
    }

    pub fn past_cooldown(&self) {
        let step = self.cache_config.unknown_kid_cooldown + Duration::from_secs(1);
        self.clock
            .advance(chrono::Duration::from_std(step).expect("duration"));
    }
}
