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

/// The same extractor with DPoP allowed for the issuer: a bound token with its proof passes, a
/// bound token as `Bearer` and a proof for another URL do not, and plain bearer tokens still do.
#[tokio::test]
async fn authenticated_takes_dpop_tokens_with_their_proof() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use portcullis_auth::dpop::{DpopConfig, DpopMode, MemoryReplay, ProofAlg};
    use portcullis_auth::provider::Settings;
    use serde_json::json;

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
    let provider: Arc<dyn Provider> = Arc::new(Cognito::with_settings(
        Settings::new(ISSUER, keys).dpop(DpopMode::Allowed),
        [DEFAULT_CLIENT_ID.to_owned()],
    ));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let dpop = portcullis_auth::dpop::Dpop::new(
        DpopConfig {
            resource: url::Url::parse(&base).expect("url"),
            algorithms: ProofAlg::ALL.to_vec(),
            max_age: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
            nonce: None,
        },
        Arc::new(MemoryReplay::new(Duration::from_secs(70), 1000)),
        Arc::new(SystemClock),
    );
    let verifier = Arc::new(
        Verifier::new(vec![provider], Arc::new(SystemClock), Policy::default())
            .expect("verifier")
            .with_dpop(dpop),
    );
    let app = Router::new()
        .route(
            "/me",
            get(|Authenticated(v): Authenticated| async move { v.claims.sub.clone() }),
        )
        .with_state(verifier);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let s = Service { base, issuer, task };

    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
    let point = pair.public_key().as_ref().to_vec();
    let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..]));
    let digest = |t: &str| {
        B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, t.as_bytes()).as_ref())
    };
    let jkt = digest(&format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
    ));
    let token = s
        .issuer
        .mint_access(&TokenSpec::new("alice").dpop_bound(jkt.clone()));
    let proof = |htu: &str| {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256",
            "jwk": {"kty": "EC", "crv": "P-256", "x": x, "y": y}});
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"jti": uuid_like(), "htm": "GET", "htu": htu, "iat": now,
            "ath": digest(&token)});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", B64.encode(sig.as_ref()))
    };
    let client = http_client(Duration::from_secs(5)).expect("client");
    let send = |proof: Option<String>, scheme: &str| {
        let mut req = client
            .get(format!("{}/me", s.base))
            .header("authorization", format!("{scheme} {token}"));
        if let Some(p) = proof {
            req = req.header("dpop", p);
        }
        req.send()
    };
    let res = send(Some(proof(&format!("{}/me", s.base))), "DPoP")
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let res = send(Some(proof(&format!("{}/other", s.base))), "DPoP")
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let challenges: Vec<String> = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with(r#"DPoP error="invalid_dpop_proof""#)),
        "{challenges:?}"
    );
    let res = send(None, "Bearer").await.expect("request");
    assert_eq!(res.status(), 401);
    let plain = s.issuer.mint_access(&TokenSpec::new("bob"));
    let (status, _, body) = get_with(&s, "/me", Some(&plain)).await;
    assert_eq!((status, body.as_str()), (200, "bob"));
}

/// A proof id unique enough for one test.
fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("random");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
