//! Every series, with its labels, as the metrics listener exports it.

use super::bad_signature;
use crate::support::binary::{free_port, mint, serve_binary};
use crate::support::samples::{assert_at_least, sample};
use crate::support::{Caller, TestApp, client};
use portcullis_dev_issuer::{LoopbackIssuer, TokenSpec};
use serde_json::json;
use std::process::Stdio;

/// An app verifying the tokens of `issuer` (a real HTTP issuer on loopback), ready.
async fn cognito_app(issuer: &LoopbackIssuer) -> TestApp {
    let app = TestApp::sqlite().cognito(&issuer.issuer).start().await;
    app.wait_ready().await;
    app
}

/// Users added to an org by `sub` before they ever sign in are provisioned too, and counted.
/// Run against the real binary: the metrics registry is process-global, and in this test
/// process other tests provision users concurrently, so only a process of its own can show the
/// exact count.
#[tokio::test]
async fn pre_provisioned_users_count_as_created() {
    let dir = tempfile::tempdir().expect("dir");
    let (port, metrics_port) = (free_port(), free_port());
    let owner = mint(dir.path(), port, "metrics-owner");
    let _child = serve_binary(dir.path(), port, metrics_port, Stdio::null()).await;
    let http = client();
    let created = || async {
        let text = http
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text");
        sample(&text, "portcullis_users_created_total", &[]).unwrap_or(0.0)
    };
    // The owner is provisioned on first sight of their token: one.
    let owner = Caller::at(&format!("http://127.0.0.1:{port}"), &owner);
    let org_id = owner.create_org("Pre-provisioning").await;
    assert_eq!(created().await, 1.0);
    let add = |sub: &'static str| {
        owner
            .post(&format!("/v1/orgs/{org_id}/members"))
            .json(json!({"sub": sub, "role": "member"}))
            .status()
    };
    assert_eq!(add("never-signed-in").await, 201);
    assert_eq!(
        created().await,
        2.0,
        "the pre-provisioned user was not counted"
    );
    // Adding the same sub again creates nobody (409: already a member).
    assert_eq!(add("never-signed-in").await, 409);
    assert_eq!(created().await, 2.0);
}

#[tokio::test]
async fn authentication_outcomes_are_counted_by_reason() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = cognito_app(&issuer).await;
    let i = &issuer.issuer;
    let now = chrono::Utc::now().timestamp();

    // Successes, twice with one token (a cache miss, then a hit).
    let alice = i.mint_access(&TokenSpec::new("metrics-alice"));
    for _ in 0..2 {
        assert_eq!(app.bearer(&alice).me().await, 200);
    }
    // Each rejection reason reachable over HTTP.
    let expired = i.mint_access(&TokenSpec::new("metrics-alice").issued_at(now - 7200));
    let unknown_kid = i.sign_raw(
        &json!({"alg": "RS256", "kid": "no-such-kid"}),
        &serde_json::Value::Object(i.access_claims(&TokenSpec::default())),
    );
    let cases: Vec<(Option<String>, &str)> = vec![
        (Some(expired), "expired"),
        (Some(bad_signature(&alice)), "bad_signature"),
        (Some(unknown_kid), "unknown_kid"),
        (Some("garbage".into()), "malformed"),
        (None, "missing"),
    ];
    for (token, _) in &cases {
        let caller = match token {
            Some(t) => app.bearer(t),
            None => app.anonymous(),
        };
        assert_eq!(caller.me().await, 401);
    }
    // A valid token in the query string is refused, and counted as such.
    let in_query = app
        .anonymous()
        .get(&format!("/v1/me?access_token={alice}"))
        .status()
        .await;
    assert_eq!(in_query, 401);

    let text = app.scrape().await;
    let m = "portcullis_auth_attempts_total";
    assert_at_least(&text, m, &[("result", "success"), ("reason", "none")], 2.0);
    for (_, reason) in &cases {
        assert_at_least(&text, m, &[("result", "failure"), ("reason", reason)], 1.0);
    }
    assert_at_least(
        &text,
        m,
        &[("result", "failure"), ("reason", "token_in_query")],
        1.0,
    );
    assert_at_least(&text, "portcullis_users_created_total", &[], 1.0);
    assert_at_least(&text, "portcullis_user_upsert_conflicts_total", &[], 0.0);
    let h = "portcullis_token_validation_duration_seconds_count";
    assert_at_least(&text, h, &[("cache", "hit")], 1.0);
    assert_at_least(&text, h, &[("cache", "miss")], 1.0);
    assert!(text.contains("portcullis_token_validation_duration_seconds_bucket{"));
    let r = "portcullis_http_requests_total";
    assert_at_least(
        &text,
        r,
        &[("method", "GET"), ("route", "/v1/me"), ("status", "200")],
        2.0,
    );
    assert_at_least(&text, r, &[("route", "/v1/me"), ("status", "401")], 6.0);
}

#[tokio::test]
async fn requests_are_counted_by_route_template_never_by_raw_path() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = cognito_app(&issuer).await;
    let alice = app.bearer(&issuer.issuer.mint_access(&TokenSpec::new("metrics-alice")));
    // A 403 (the global audit log is for platform admins), a templated route, an unknown path.
    assert_eq!(alice.get("/v1/admin/audit").status().await, 403);
    let org_id = alice.create_org("Metrics").await;
    let path = format!("/v1/orgs/{org_id}/resources");
    assert_eq!(alice.get(&path).status().await, 200);
    assert_eq!(app.anonymous().get("/no/such/path").status().await, 404);

    // Never on the public listener.
    assert_eq!(app.anonymous().get("/metrics").status().await, 404);

    let text = app.scrape().await;
    let r = "portcullis_http_requests_total";
    assert_at_least(
        &text,
        r,
        &[("route", "/v1/admin/audit"), ("status", "403")],
        1.0,
    );
    assert_at_least(
        &text,
        r,
        &[
            ("method", "GET"),
            ("route", "/v1/orgs/{org_id}/resources"),
            ("status", "200"),
        ],
        1.0,
    );
    assert_at_least(
        &text,
        r,
        &[("method", "POST"), ("route", "/v1/orgs"), ("status", "201")],
        1.0,
    );
    assert_at_least(&text, r, &[("route", "unmatched"), ("status", "404")], 1.0);
    assert!(
        !text.contains(org_id.as_str()) && !text.contains("/no/such/path"),
        "raw paths never become labels"
    );
    assert_at_least(
        &text,
        "portcullis_http_request_duration_seconds_count",
        &[("method", "GET"), ("route", "/v1/orgs/{org_id}/resources")],
        1.0,
    );
}

#[tokio::test]
async fn key_set_fetches_and_the_other_series_are_exported() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = cognito_app(&issuer).await;
    let text = app.scrape().await;
    let url = issuer.issuer_url();
    assert_at_least(
        &text,
        "portcullis_jwks_fetches_total",
        &[("issuer", url), ("result", "updated")],
        1.0,
    );
    let age = sample(&text, "portcullis_jwks_age_seconds", &[("issuer", url)]).expect("age");
    assert!((0.0..60.0).contains(&age), "keys loaded moments ago: {age}");
    assert_at_least(
        &text,
        "portcullis_revocation_backend_errors_total",
        &[],
        0.0,
    );
    assert_at_least(&text, "portcullis_websocket_connections", &[], 0.0);
    assert_at_least(
        &text,
        "portcullis_rate_limited_total",
        &[("scope", "ip")],
        0.0,
    );
    assert_at_least(
        &text,
        "portcullis_rate_limited_total",
        &[("scope", "user")],
        0.0,
    );
}

#[tokio::test]
async fn websocket_helpers_feed_their_series() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = cognito_app(&issuer).await;
    portcullis::metrics::ws_opened();
    portcullis::metrics::ws_closed(4999);
    portcullis::metrics::revocation_backend_error();
    let text = app.scrape().await;
    assert_at_least(
        &text,
        "portcullis_websocket_closes_total",
        &[("code", "4999")],
        1.0,
    );
    assert_at_least(
        &text,
        "portcullis_revocation_backend_errors_total",
        &[],
        1.0,
    );
}
