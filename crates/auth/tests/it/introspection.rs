//! Opaque tokens checked at a real introspection endpoint on a loopback port
//! (`portcullis_dev_issuer::IntrospectionEndpoint`): answers, caching, the fail-closed answer
//! when the endpoint errs or hangs, client authentication, and the claim checks afterwards.

use portcullis_auth::builder::BuildError;
use portcullis_auth::clock::SystemClock;
use portcullis_auth::introspection::{
    CallOutcome, ClientAuth, ClientSecret, IntrospectionConfig, IntrospectionObserver,
};
use portcullis_auth::jwks::{JwksCache, JwksConfig, StaticJwks};
use portcullis_auth::provider::{Cognito, Provider};
use portcullis_auth::{CacheUse, Rejection, Verifier};
use portcullis_dev_issuer::{
    DEFAULT_CLIENT_ID, DevIssuer, IntrospectionEndpoint, Mode, SeenAuth, TokenSpec,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ISSUER: &str = "https://issuer.test";
const CLIENT: &str = "resource-server";
const SECRET: &str = "s3cret:with/odd&chars";

#[derive(Debug, Default)]
struct Counted(Mutex<HashMap<&'static str, usize>>);

impl IntrospectionObserver for Counted {
    fn called(&self, issuer: &str, outcome: CallOutcome, _elapsed: Duration) {
        assert_eq!(issuer, ISSUER);
        let mut m = self.0.lock().expect("lock");
        *m.entry(outcome.label()).or_default() += 1;
    }
}

impl Counted {
    fn get(&self, label: &str) -> usize {
        self.0
            .lock()
            .expect("lock")
            .get(label)
            .copied()
            .unwrap_or(0)
    }
}

struct Setup {
    endpoint: IntrospectionEndpoint,
    issuer: Arc<DevIssuer>,
    verifier: Verifier,
    observed: Arc<Counted>,
}

fn provider(issuer: &Arc<DevIssuer>) -> Arc<dyn Provider> {
    let published = Arc::clone(issuer);
    let keys = Arc::new(JwksCache::new(
        ISSUER,
        Box::new(StaticJwks::new("test issuer", move || {
            published.jwks().to_string().into_bytes()
        })),
        Arc::new(SystemClock),
        JwksConfig::default(),
    ));
    Arc::new(Cognito::new(
        ISSUER.to_owned(),
        [DEFAULT_CLIENT_ID.to_owned()],
        keys,
    ))
}

async fn setup_with(f: impl FnOnce(&mut IntrospectionConfig)) -> Setup {
    let endpoint = IntrospectionEndpoint::start(CLIENT, SECRET)
        .await
        .expect("endpoint");
    let issuer = Arc::new(DevIssuer::ephemeral(ISSUER));
    let p = provider(&issuer);
    p.keys().refresh().await.expect("keys");
    let mut config = IntrospectionConfig::new(endpoint.url(), CLIENT, ClientSecret::new(SECRET));
    config.timeout = Duration::from_millis(500);
    f(&mut config);
    let observed = Arc::new(Counted::default());
    let verifier = Verifier::builder()
        .provider(p)
        .allow_loopback_http(true)
        .introspection(ISSUER, config)
        .introspection_observer(Arc::clone(&observed) as Arc<dyn IntrospectionObserver>)
        .build()
        .await
        .expect("verifier");
    Setup {
        endpoint,
        issuer,
        verifier,
        observed,
    }
}

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What an issuer answers for one of its access tokens.
fn answer(sub: &str) -> Value {
    json!({
        "iss": ISSUER,
        "sub": sub,
        "exp": now() + 600,
        "iat": now(),
        "token_use": "access",
        "client_id": DEFAULT_CLIENT_ID,
        "scope": "read write",
        "cognito:groups": ["portcullis-admin"],
        "token_type": "Bearer",
    })
}

#[tokio::test]
async fn an_active_answer_is_verified_once_and_then_served_from_the_cache() {
    let s = setup().await;
    s.endpoint.activate("opaque-alice", answer("alice"));
    let (v, used) = s
        .verifier
        .verify_traced("opaque-alice")
        .await
        .expect("active");
    assert_eq!(used, CacheUse::Miss);
    assert_eq!(v.claims.sub, "alice");
    let scopes: Vec<&str> = v.claims.scopes.iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["read", "write"]);
    assert!(v.platform_admin, "roles are read as from a JWT");
    for _ in 0..5 {
        let (again, used) = s
            .verifier
            .verify_traced("opaque-alice")
            .await
            .expect("cached");
        assert_eq!(used, CacheUse::Hit);
        assert_eq!(again.claims.sub, "alice");
    }
    assert_eq!(s.endpoint.calls(), 1, "one call, then the cache");
    assert_eq!(s.endpoint.last_auth(), Some(SeenAuth::Basic));
    assert_eq!(s.observed.get("active"), 1);
}

#[tokio::test]
async fn concurrent_first_requests_for_one_token_make_one_call() {
    let s = Arc::new(setup().await);
    s.endpoint.activate("opaque-many", answer("many"));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let s = Arc::clone(&s);
        tasks.spawn(async move {
            s.verifier
                .verify("opaque-many")
                .await
                .map(|v| v.claims.sub.clone())
        });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.expect("task").as_deref(), Ok("many"));
    }
    assert_eq!(s.endpoint.calls(), 1);
}

#[tokio::test]
async fn an_inactive_answer_is_refused_and_cached_briefly() {
    let s = setup_with(|c| c.inactive_ttl = Duration::from_millis(200)).await;
    for _ in 0..3 {
        assert_eq!(
            s.verifier.verify("opaque-unknown").await.map(|_| ()),
            Err(Rejection::Inactive)
        );
    }
    assert_eq!(s.endpoint.calls(), 1, "the refusal is cached");
    assert_eq!(s.observed.get("inactive"), 1);
    // Once the issuer knows the token, the cached refusal does not outlive its short life.
    s.endpoint.activate("opaque-unknown", answer("late"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let v = s
        .verifier
        .verify("opaque-unknown")
        .await
        .expect("active now");
    assert_eq!(v.claims.sub, "late");
    assert_eq!(s.endpoint.calls(), 2);
}

#[tokio::test]
async fn an_endpoint_error_fails_closed_and_is_not_cached() {
    let s = setup().await;
    s.endpoint.activate("opaque-bob", answer("bob"));
    s.endpoint.set(Mode::Fail);
    for _ in 0..2 {
        assert_eq!(
            s.verifier.verify("opaque-bob").await.map(|_| ()),
            Err(Rejection::IntrospectionUnavailable)
        );
    }
    assert_eq!(
        s.endpoint.calls(),
        2,
        "failures are asked again, not cached"
    );
    assert_eq!(s.observed.get("http_error"), 2);
    s.endpoint.set(Mode::Answer);
    assert!(s.verifier.verify("opaque-bob").await.is_ok());
}

#[tokio::test]
async fn a_hanging_endpoint_fails_closed_at_the_timeout() {
    let s = setup_with(|c| c.timeout = Duration::from_millis(200)).await;
    s.endpoint.activate("opaque-carol", answer("carol"));
    s.endpoint.set(Mode::Hang);
    assert_eq!(
        s.verifier.verify("opaque-carol").await.map(|_| ()),
        Err(Rejection::IntrospectionUnavailable)
    );
    assert_eq!(s.observed.get("timeout"), 1);
}

#[tokio::test]
async fn wrong_client_credentials_fail_closed() {
    let s = setup_with(|c| c.client_secret = ClientSecret::new("not-the-secret")).await;
    s.endpoint.activate("opaque-dave", answer("dave"));
    assert_eq!(
        s.verifier.verify("opaque-dave").await.map(|_| ()),
        Err(Rejection::IntrospectionUnavailable)
    );
    assert_eq!(s.observed.get("http_error"), 1);
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_body() {
    let s = setup_with(|c| c.auth = ClientAuth::Post).await;
    s.endpoint.activate("opaque-erin", answer("erin"));
    assert!(s.verifier.verify("opaque-erin").await.is_ok());
    assert_eq!(s.endpoint.last_auth(), Some(SeenAuth::Post));
}

#[tokio::test]
async fn an_active_answer_still_goes_through_the_claim_checks() {
    let s = setup().await;
    let with = |k: &str, v: Value| {
        let mut a = answer("x");
        a[k] = v;
        a
    };
    let without = |k: &str| {
        let mut a = answer("x");
        a.as_object_mut().expect("object").remove(k);
        a
    };
    let cases = [
        (
            "wrong-client",
            with("client_id", json!("another-app")),
            Rejection::WrongClient,
        ),
        (
            "id-token",
            with("token_use", json!("id")),
            Rejection::WrongTokenUse,
        ),
        (
            "refresh",
            with("token_type", json!("refresh_token")),
            Rejection::WrongTokenUse,
        ),
        (
            "foreign-iss",
            with("iss", json!("https://elsewhere.test")),
            Rejection::UnknownIssuer,
        ),
        (
            "expired",
            with("exp", json!(now() - 3600)),
            Rejection::Expired,
        ),
        ("no-exp", without("exp"), Rejection::MissingExp),
        ("no-sub", without("sub"), Rejection::BadClaims),
        (
            "odd-scope",
            with("scope", json!(["a"])),
            Rejection::BadClaims,
        ),
        (
            "too-long",
            with("exp", json!(now() + 3 * 24 * 3600)),
            Rejection::LifetimeTooLong,
        ),
    ];
    for (token, a, expected) in cases {
        s.endpoint.activate(token, a);
        assert_eq!(
            s.verifier.verify(token).await.map(|_| ()),
            Err(expected),
            "{token}"
        );
    }
    // An answer without `iss` is the issuer's whose endpoint gave it.
    s.endpoint.activate("no-iss", without("iss"));
    let v = s.verifier.verify("no-iss").await.expect("no iss is fine");
    assert_eq!(v.claims.iss, ISSUER);
}

#[tokio::test]
async fn jwts_are_still_verified_by_signature_and_never_sent_to_the_endpoint() {
    let s = setup().await;
    let jwt = s.issuer.mint_access(&TokenSpec::new("frank"));
    assert_eq!(
        s.verifier.verify(&jwt).await.expect("jwt").claims.sub,
        "frank"
    );
    let mut forged = jwt.clone();
    forged.push('A');
    assert!(s.verifier.verify(&forged).await.is_err());
    // Not a b64token at all: refused before any call.
    assert_eq!(
        s.verifier.verify("not,a token").await.map(|_| ()),
        Err(Rejection::Malformed)
    );
    assert_eq!(s.endpoint.calls(), 0);
}

#[tokio::test]
async fn introspection_is_set_for_one_known_issuer_over_https() {
    let issuer = Arc::new(DevIssuer::ephemeral(ISSUER));
    let config = |url: &str| IntrospectionConfig::new(url, CLIENT, ClientSecret::new(SECRET));
    let build = |issuers: Vec<(&str, &str)>| {
        let mut b = Verifier::builder().provider(provider(&issuer));
        for (iss, url) in issuers {
            b = b.introspection(iss, config(url));
        }
        b.build()
    };
    let err = |r: Result<Verifier, BuildError>| match r {
        Err(BuildError::Introspection { why, .. }) => why,
        other => panic!("expected an introspection error, got {other:?}"),
    };
    assert!(
        err(build(vec![("https://other.test", "https://i.test/introspect")]).await)
            .contains("no configured provider")
    );
    assert!(err(build(vec![(ISSUER, "http://i.test/introspect")]).await).contains("https"));
    assert!(
        err(build(vec![
            (ISSUER, "https://i.test/a"),
            (ISSUER, "https://i.test/b")
        ])
        .await)
        .contains("only one issuer")
    );
    assert!(
        build(vec![(ISSUER, "https://i.test/introspect")])
            .await
            .is_ok()
    );
    // The secret never shows in Debug output.
    let shown = format!("{:?}", config("https://i.test/introspect"));
    assert!(!shown.contains(SECRET) && shown.contains("***"), "{shown}");
}

#[tokio::test]
async fn with_jwts_on_the_issuers_jwts_are_introspected_instead_of_verified() {
    let s = setup_with(|c| c.jwts = true).await;
    let jwt = s.issuer.mint_access(&TokenSpec::new("gina"));
    // A good signature counts for nothing: the endpoint does not know the token.
    assert_eq!(
        s.verifier.verify(&jwt).await.map(|_| ()),
        Err(Rejection::Inactive)
    );
    assert_eq!(s.endpoint.calls(), 1);
    // Once it does, its answer decides, through the same claim checks.
    let known = s.issuer.mint_access(&TokenSpec::new("hank"));
    s.endpoint.activate(&known, answer("hank"));
    assert_eq!(
        s.verifier.verify(&known).await.expect("active").claims.sub,
        "hank"
    );
    // A JWT naming another issuer is never sent there; it goes by signature (and fails: no
    // provider answers for that issuer).
    let other = DevIssuer::ephemeral("https://other.test").mint_access(&TokenSpec::new("ivy"));
    assert_eq!(
        s.verifier.verify(&other).await.map(|_| ()),
        Err(Rejection::UnknownIssuer)
    );
    assert_eq!(s.endpoint.calls(), 2);
}
