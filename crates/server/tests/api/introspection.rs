//! Opaque tokens through the API: an issuer entry with `introspection` pointed at a real
//! endpoint on a loopback port. An active token reaches `/v1/me` with one endpoint call for
//! many requests, an inactive one is a 401, an endpoint that fails is a 503 and never an
//! acceptance, a logout revokes an introspected token, and the calls show in the metrics.

use crate::support::{TestApp, with_metadata};
use portcullis::config::{IntrospectionToml, IssuerConfig, IssuerProfile, SecretValue};
use portcullis_dev_issuer::{DEFAULT_CLIENT_ID, IntrospectionEndpoint, LoopbackIssuer, Mode};
use serde_json::{Value, json};

const CLIENT: &str = "portcullis-api";
const SECRET: &str = "introspection-secret";

fn answer(issuer: &str, sub: &str, jti: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": issuer,
        "sub": sub,
        "jti": jti,
        "exp": now + 600,
        "iat": now,
        "token_use": "access",
        "client_id": DEFAULT_CLIENT_ID,
        "username": sub,
        "token_type": "Bearer",
    })
}

async fn app(idp: &LoopbackIssuer, endpoint: &IntrospectionEndpoint) -> TestApp {
    app_with(idp, endpoint, "opaque").await
}

async fn app_with(idp: &LoopbackIssuer, endpoint: &IntrospectionEndpoint, tokens: &str) -> TestApp {
    let issuer = idp.issuer_url().to_owned();
    let table: IntrospectionToml = serde_json::from_value(json!({
        "endpoint": endpoint.url(),
        "client_id": CLIENT,
        "client_secret": SECRET,
        "timeout_ms": 500,
        "tokens": tokens,
    }))
    .expect("table");
    let app = TestApp::sqlite()
        .with_config(move |c| {
            c.auth.provider = None;
            c.auth.allow_http_issuer = true;
            c.auth.issuers = vec![IssuerConfig {
                profile: Some(IssuerProfile::Cognito),
                issuer: Some(issuer),
                client_ids: vec![DEFAULT_CLIENT_ID.into()],
                introspection: Some(table),
                ..IssuerConfig::default()
            }];
        })
        .start()
        .await;
    app.wait_ready().await;
    app
}

#[tokio::test]
async fn opaque_tokens_are_introspected_cached_and_fail_closed() {
    let idp = LoopbackIssuer::start().await.expect("issuer");
    let endpoint = IntrospectionEndpoint::start(CLIENT, SECRET)
        .await
        .expect("endpoint");
    let mut app = app(&idp, &endpoint).await;
    let iss = idp.issuer_url();

    endpoint.activate("opaque.alice", answer(iss, "alice-opaque", "jti-alice"));
    for _ in 0..3 {
        let me = app.bearer("opaque.alice").get("/v1/me").expect(200).await;
        assert_eq!(me["sub"], "alice-opaque");
        assert_eq!(me["issuer"], iss);
    }
    assert_eq!(endpoint.calls(), 1, "answers are cached");

    // Unknown to the issuer: 401 with the usual challenge.
    let res = app.bearer("opaque.nobody").get("/v1/me").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(with_metadata(&res, r#"Bearer error="invalid_token""#).as_str())
    );

    // The endpoint fails: 503, a problem document, and the token is not let through.
    endpoint.activate("opaque.bob", answer(iss, "bob-opaque", "jti-bob"));
    endpoint.set(Mode::Fail);
    let res = app.bearer("opaque.bob").get("/v1/me").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    endpoint.set(Mode::Hang);
    assert_eq!(app.bearer("opaque.bob").get("/v1/me").status().await, 503);
    endpoint.set(Mode::Answer);
    assert_eq!(app.bearer("opaque.bob").get("/v1/me").status().await, 200);

    // A logout revokes the introspected token like a JWT.
    app.bearer("opaque.alice")
        .post("/v1/auth/logout")
        .expect(204)
        .await;
    assert_eq!(app.bearer("opaque.alice").get("/v1/me").status().await, 401);

    // JWTs of the same issuer still go by signature.
    let jwt = idp
        .issuer
        .mint_access(&portcullis_dev_issuer::TokenSpec::new("carol-jwt"));
    assert_eq!(app.bearer(&jwt).get("/v1/me").status().await, 200);

    let metrics = app.scrape().await;
    let series = |outcome: &str| {
        format!("portcullis_introspection_calls_total{{issuer=\"{iss}\",outcome=\"{outcome}\"}}")
    };
    for outcome in ["active", "inactive", "http_error", "timeout"] {
        assert!(metrics.contains(&series(outcome)), "{outcome}\n{metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "portcullis_introspection_duration_seconds_count{{issuer=\"{iss}\"}}"
        )),
        "{metrics}"
    );
    app.stop().await.expect("stop");
}

#[tokio::test]
async fn with_tokens_all_the_issuers_jwts_are_introspected() {
    let idp = LoopbackIssuer::start().await.expect("issuer");
    let endpoint = IntrospectionEndpoint::start(CLIENT, SECRET)
        .await
        .expect("endpoint");
    let mut app = app_with(&idp, &endpoint, "all").await;
    let jwt = idp
        .issuer
        .mint_access(&portcullis_dev_issuer::TokenSpec::new("dora-jwt"));
    // Signed by the issuer, but unknown to its endpoint: refused.
    assert_eq!(app.bearer(&jwt).get("/v1/me").status().await, 401);
    let known = idp
        .issuer
        .mint_access(&portcullis_dev_issuer::TokenSpec::new("eve-jwt"));
    endpoint.activate(&known, answer(idp.issuer_url(), "eve-jwt", "jti-eve"));
    let me = app.bearer(&known).get("/v1/me").expect(200).await;
    assert_eq!(me["sub"], "eve-jwt");
    assert_eq!(endpoint.calls(), 2);
    app.stop().await.expect("stop");
}

#[tokio::test]
async fn two_introspecting_issuers_are_refused_at_start() {
    let table = IntrospectionToml {
        endpoint: "https://idp.example/introspect".into(),
        client_id: CLIENT.into(),
        client_secret: Some(serde_json::from_value::<SecretValue>(json!(SECRET)).expect("secret")),
        ..IntrospectionToml::default()
    };
    let entry = |issuer: &str| IssuerConfig {
        profile: Some(IssuerProfile::Okta),
        issuer: Some(issuer.into()),
        audiences: vec!["api".into()],
        introspection: Some(table.clone()),
        ..IssuerConfig::default()
    };
    let auth = portcullis::config::AuthConfig {
        provider: None,
        issuers: vec![
            entry("https://a.okta.example/oauth2/default"),
            entry("https://b.okta.example/oauth2/default"),
        ],
        ..portcullis::config::AuthConfig::default()
    };
    let e = auth.resolve().expect_err("two introspecting issuers");
    assert_eq!(e.setting, "auth.issuers[1].introspection", "{e}");
    assert!(!e.to_string().contains(SECRET));
}
