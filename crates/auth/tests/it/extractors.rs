//! The public axum extractors, in a real router on a loopback port: what a service embedding
//! the library gets for a good token, a missing one and one without a required scope.

use axum::Router;
use axum::routing::get;
use portcullis_auth::Verifier;
use portcullis_auth::bearer::{Authenticated, ScopeSet, Scoped};
use portcullis_auth::clock::SystemClock;
use portcullis_auth::jwks::{JwksCache, JwksConfig, StaticJwks, http_client};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{Cognito, Provider};
use portcullis_dev_issuer::{DEFAULT_CLIENT_ID, DevIssuer, TokenSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const ISSUER: &str = "https://issuer.test";

struct Reports;

impl ScopeSet for Reports {
    const SCOPES: &'static [&'static str] = &["reports:read", "reports:write"];
}

/// A service with one route per extractor; stops when dropped.
struct Service {
    base: String,
    issuer: Arc<DevIssuer>,
    task: JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn service() -> Service {
    let issuer = Arc::new(DevIssuer::ephemeral(ISSUER));
    let published = Arc::clone(&issuer);
    let keys = Arc::new(JwksCache::new(
        ISSUER,
        Box::new(StaticJwks::new("test issuer", move || {
            published.jwks().to_string().into_bytes()
        })),
        Arc::new(SystemClock),
        JwksConfig::default(),
    ));
    keys.refresh().await.expect("in-process keys load");
    let provider: Arc<dyn Provider> = Arc::new(Cognito::new(
        ISSUER.to_owned(),
        [DEFAULT_CLIENT_ID.to_owned()],
        keys,
    ));
    let verifier = Arc::new(
        Verifier::new(vec![provider], Arc::new(SystemClock), Policy::default()).expect("verifier"),
    );
    let app = Router::new()
        .route(
            "/me",
            get(|Authenticated(v): Authenticated| async move { v.claims.sub.clone() }),
        )
        .route(
            "/reports",
            get(|scoped: Scoped<Reports>| async move { scoped.0.claims.sub.clone() }),
        )
        .with_state(verifier);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Service { base, issuer, task }
}

/// Status, `WWW-Authenticate` and body of a GET.
async fn get_with(s: &Service, path: &str, token: Option<&str>) -> (u16, String, String) {
    let client = http_client(Duration::from_secs(5)).expect("client");
    let mut req = client.get(format!("{}{path}", s.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, challenge, res.text().await.expect("body"))
}

#[tokio::test]
async fn authenticated_hands_over_the_verified_token_and_refuses_the_rest() {
    let s = service().await;
    let token = s.issuer.mint_access(&TokenSpec::new("alice"));
    let (status, _, body) = get_with(&s, "/me", Some(&token)).await;
    assert_eq!((status, body.as_str()), (200, "alice"));

    let (status, challenge, _) = get_with(&s, "/me", None).await;
    assert_eq!((status, challenge.as_str()), (401, "Bearer"));

    let other = DevIssuer::ephemeral("https://elsewhere.test").mint_access(&TokenSpec::new("eve"));
    let (status, challenge, body) = get_with(&s, "/me", Some(&other)).await;
    assert_eq!(
        (status, challenge.as_str()),
        (401, r#"Bearer error="invalid_token""#)
    );
    assert!(!body.contains("eve"), "{body}");
}

#[tokio::test]
async fn scoped_needs_every_scope_of_its_set() {
    let s = service().await;
    let both = s
        .issuer
        .mint_access(&TokenSpec::new("alice").scopes(["reports:read", "reports:write"]));
    let (status, _, body) = get_with(&s, "/reports", Some(&both)).await;
    assert_eq!((status, body.as_str()), (200, "alice"));

    let read_only = s
        .issuer
        .mint_access(&TokenSpec::new("bob").scopes(["reports:read"]));
    let (status, challenge, _) = get_with(&s, "/reports", Some(&read_only)).await;
    assert_eq!(
        (status, challenge.as_str()),
        (403, r#"Bearer error="insufficient_scope""#)
    );
    // The same token is good enough where no scope is required.
    let (status, _, _) = get_with(&s, "/me", Some(&read_only)).await;
    assert_eq!(status, 200);

    let (status, challenge, _) = get_with(&s, "/reports", None).await;
    assert_eq!((status, challenge.as_str()), (401, "Bearer"));
}
