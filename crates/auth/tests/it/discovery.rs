//! OpenID discovery against a real HTTP server on a loopback port: the `jwks_uri` a discovery
//! document names is remote content, and is held to the same rule as a configured issuer.

use axum::Router;
use axum::routing::get;
use portcullis_auth::jwks::{
    DiscoveredJwks, FetchError, FetchReason, Fetched, KeySource, Validators, discover_jwks_uri,
    http_client,
};
use portcullis_dev_issuer::DevIssuer;
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// An issuer at `http://127.0.0.1:{port}` whose discovery document names a chosen `jwks_uri`,
/// and which serves a real JWKS at `/jwks`. Stops when dropped.
struct Discovery {
    issuer: String,
    task: JoinHandle<()>,
}

impl Drop for Discovery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `jwks_uri` may contain `{addr}`, replaced by this server's `127.0.0.1:{port}`.
async fn serve(jwks_uri: &str) -> Discovery {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("local addr").to_string();
    let issuer = format!("http://{addr}");
    let document = json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri.replace("{addr}", &addr),
    })
    .to_string();
    let jwks = DevIssuer::ephemeral(issuer.clone()).jwks().to_string();
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || std::future::ready(document.clone())),
        )
        .route("/jwks", get(move || std::future::ready(jwks.clone())));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Discovery { issuer, task }
}

fn client() -> reqwest::Client {
    http_client(Duration::from_secs(2)).expect("client")
}

#[tokio::test]
async fn plain_loopback_jwks_uri_is_followed_when_http_is_allowed() {
    let server = serve("http://{addr}/jwks").await;
    let source = DiscoveredJwks::new(client(), server.issuer.clone(), true);
    match source
        .fetch(&Validators::default(), FetchReason::Scheduled)
        .await
    {
        Ok(Fetched::Keys { keys, .. }) => assert!(!keys.is_empty()),
        other => panic!("expected keys, got {other:?}"),
    }
}

#[tokio::test]
async fn jwks_uri_with_a_user_name_or_password_is_refused() {
    let refused = FetchError::Document("jwks_uri carries a user name or password");
    for jwks_uri in [
        // Read naively, the host of these looks like loopback; the request would go to
        // evil.example.
        "http://{addr}@evil.example/jwks",
        "http://localhost:1@evil.example/jwks",
        "http://127.0.0.1@evil.example/jwks",
        "http://[::1]:80@evil.example/jwks",
        // Loopback indeed, or https, but still with credentials in the URL.
        "http://user:pw@{addr}/jwks",
        "https://user@idp.example/jwks",
    ] {
        let server = serve(jwks_uri).await;
        assert_eq!(
            discover_jwks_uri(&client(), &server.issuer, true).await,
            Err(refused.clone()),
            "{jwks_uri}"
        );
        let source = DiscoveredJwks::new(client(), server.issuer.clone(), true);
        let outcome = source
            .fetch(&Validators::default(), FetchReason::Scheduled)
            .await;
        assert!(
            matches!(&outcome, Err(e) if *e == refused),
            "{jwks_uri}: {outcome:?}"
        );
    }
}
