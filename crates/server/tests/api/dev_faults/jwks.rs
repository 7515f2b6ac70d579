//! A JWKS outage (503, or a hang) switched on at the faults endpoint reaches the issuer's JWKS
//! endpoint and the server's own key cache: the server keeps verifying with the keys it holds,
//! and a token naming a kid it does not hold is refused rather than waited on forever.

use super::fault;
use crate::support::TestApp;
use portcullis_dev_issuer::TokenSpec;
use serde_json::{Value, json};

fn unknown_kid_token(app: &TestApp) -> String {
    let claims = app.issuer().access_claims(&TokenSpec::new("mallory"));
    app.issuer().sign_raw(
        &json!({"alg": "RS256", "kid": "not-in-any-jwks"}),
        &Value::Object(claims),
    )
}

/// `portcullis_jwks_fetches_total` of this app's issuer with `result`.
async fn fetches(app: &TestApp, result: &str) -> u64 {
    let issuer = app.issuer().issuer_url().to_owned();
    app.scrape()
        .await
        .lines()
        .filter(|l| l.starts_with("portcullis_jwks_fetches_total{"))
        .filter(|l| l.contains(&format!("issuer=\"{issuer}\"")))
        .filter(|l| l.contains(&format!("result=\"{result}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn while_the_jwks_answers_503_the_server_verifies_with_its_cached_keys() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    assert_eq!(app.caller("alice").me().await, 200);

    let state = fault(
        &app,
        json!({"fault": "jwks", "kind": "unavailable", "seconds": 600}),
    )
    .await;
    assert_eq!(state["jwks"]["mode"], "unavailable");
    let res = app
        .client
        .get(app.url("/dev-issuer/.well-known/jwks.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 503);

    // An unknown kid makes the server refetch: the fetch fails, the token is refused.
    let failed = fetches(&app, "bad_status").await;
    assert_eq!(app.bearer(&unknown_kid_token(&app)).me().await, 401);
    assert_eq!(
        fetches(&app, "bad_status").await,
        failed + 1,
        "the server did try the JWKS"
    );
    // A token it has never seen, under a kid it holds, still verifies.
    assert_eq!(app.caller("bob").me().await, 200);

    fault(&app, json!({"fault": "jwks", "kind": "ok"})).await;
    let res = app
        .client
        .get(app.url("/dev-issuer/.well-known/jwks.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_jwks_hangs_the_server_keeps_answering_from_its_cache() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    assert_eq!(app.caller("alice").me().await, 200);

    let state = fault(
        &app,
        json!({"fault": "jwks", "kind": "hang", "seconds": 600}),
    )
    .await;
    assert_eq!(state["jwks"]["mode"], "hang");
    let held = {
        let client = app.client.clone();
        let url = app.url("/dev-issuer/.well-known/jwks.json");
        tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) })
    };
    // This one waits on the hanging refetch (bounded by the cache's fetch timeout)...
    let stuck = {
        let caller = app.bearer(&unknown_kid_token(&app));
        tokio::spawn(async move { caller.me().await })
    };
    // ...while tokens under the keys it holds are answered at once.
    assert_eq!(app.caller("bob").me().await, 200);
    assert_eq!(app.caller("carol").me().await, 200);
    assert!(!held.is_finished(), "the JWKS endpoint hangs");

    fault(&app, json!({"fault": "jwks", "kind": "ok"})).await;
    assert_eq!(
        held.await.expect("task").expect("answer"),
        200,
        "released when the hang ends"
    );
    assert_eq!(stuck.await.expect("task"), 401);
}

#[tokio::test]
async fn a_jwks_outage_ends_by_itself_when_its_time_is_up() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let issuer = app.issuer();
    // The switch itself, on the test's own issuer: no waiting for a real minute to pass.
    issuer.faults().set_jwks(
        portcullis_dev_issuer::Mode::Fail,
        Some(std::time::Duration::ZERO),
    );
    assert_eq!(
        issuer.faults().jwks_mode(),
        portcullis_dev_issuer::Mode::Answer
    );
}
