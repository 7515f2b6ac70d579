//! The metrics contract: every series of `crate::metrics` with its labels, produced over HTTP and
//! scraped from the private metrics listener; `/metrics` is not on the public listener; rate
//! limits answer 429 with `Retry-After`; and the `serve` access log carries request id, route,
//! status, latency, user and rejection reason, and never a token.
//!
//! In-process apps share one metrics registry (the recorder is process-global), so assertions
//! use labels only this test produces (its own issuer URL) or check presence and increases.

use crate::dev_command::{Killed, command, free_port, minted};
use crate::helpers::{TestApp, client, create_org, spawn_with, test_config, wait_ready};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis::config::AuthProvider;
use portcullis_dev_issuer::{LoopbackIssuer, TokenSpec};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

async fn cognito_app(
    issuer: &LoopbackIssuer,
    dir: &tempfile::TempDir,
    per_ip: u32,
    per_user: u32,
) -> TestApp {
    let mut config = test_config(&format!("sqlite://{}/p.db", dir.path().display()));
    config.auth.provider = Some(AuthProvider::Cognito);
    config.auth.issuer = Some(issuer.issuer_url().to_owned());
    config.auth.allow_http_issuer = true;
    config.auth.client_ids = vec!["portcullis-dev".into()];
    config.rate_limit.per_ip = per_ip;
    config.rate_limit.per_user = per_user;
    let app = spawn_with(&config).await;
    wait_ready(&app).await;
    app
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request")
}

async fn scrape(app: &TestApp) -> String {
    let res = app
        .client
        .get(app.app.metrics_url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    res.text().await.expect("text")
}

/// The value of the first sample of `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = match series.split_once('{') {
                Some((n, rest)) => (n, rest),
                None => (series, ""),
            };
            (n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())?
        })
        .next()
}

#[track_caller]
fn assert_at_least(text: &str, name: &str, labels: &[(&str, &str)], min: f64) {
    match sample(text, name, labels) {
        Some(v) => assert!(v >= min, "{name}{labels:?} = {v}, expected >= {min}"),
        None => panic!("no sample {name}{labels:?} in:\n{text}"),
    }
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
    let base = format!("http://127.0.0.1:{port}");
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
    let org_id = create_org(&http, &base, &owner, "Pre-provisioning").await;
    assert_eq!(created().await, 1.0);
    let add = |sub: &'static str| {
        http.post(format!("{base}/v1/orgs/{org_id}/members"))
            .bearer_auth(&owner)
            .json(&json!({"sub": sub, "role": "member"}))
            .send()
    };
    assert_eq!(add("never-signed-in").await.expect("add").status(), 201);
    assert_eq!(
        created().await,
        2.0,
        "the pre-provisioned user was not counted"
    );
    // Adding the same sub again creates nobody (409: already a member).
    assert_eq!(add("never-signed-in").await.expect("add").status(), 409);
    assert_eq!(created().await, 2.0);
}

/// A token from `portcullis token` with the key in `dir`.
fn mint(dir: &std::path::Path, port: u16, sub: &str) -> String {
    minted(command(dir, port, &["token", "--sub", sub]).env("PORTCULLIS_AUTH__PROVIDER", "dev"))
}

/// `portcullis serve` with the dev issuer in `dir`, logging at `info` to `stderr`, once ready.
async fn serve_binary(
    dir: &std::path::Path,
    port: u16,
    metrics_port: u16,
    stderr: Stdio,
) -> Killed {
    let child = command(dir, port, &["serve"])
        .env("PORTCULLIS_AUTH__PROVIDER", "dev")
        .env("PORTCULLIS_LOG", "info")
        .env(
            "PORTCULLIS_METRICS_LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("serve starts");
    let child = Killed(child);
    let http = client();
    for _ in 0..200 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("serve did not become ready");
}

/// The token with one signature byte flipped: well-formed, signed by nobody.
fn bad_signature(token: &str) -> String {
    let (rest, sig) = token.rsplit_once('.').expect("three parts");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("base64url");
    bytes[10] ^= 0x55;
    format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[tokio::test]
async fn every_series_is_exported_on_the_metrics_listener_only() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let dir = tempfile::tempdir().expect("dir");
    let app = cognito_app(&issuer, &dir, 0, 0).await;
    let i = &issuer.issuer;
    let now = chrono::Utc::now().timestamp();

    // Successes, twice with one token (a cache miss, then a hit).
    let alice = i.mint_access(&TokenSpec::new("metrics-alice"));
    for _ in 0..2 {
        assert_eq!(get(&app, "/v1/me", Some(&alice)).await.status(), 200);
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
        assert_eq!(get(&app, "/v1/me", token.as_deref()).await.status(), 401);
    }
    // A valid token in the query string is refused, and counted as such.
    let res = app
        .client
        .get(app.url(&format!("/v1/me?access_token={alice}")))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    // A 403 (the global audit log is for platform admins), a templated route, an unknown path.
    assert_eq!(
        get(&app, "/v1/admin/audit", Some(&alice)).await.status(),
        403
    );
    let org_id = create_org(&app.client, &app.url(""), &alice, "Metrics").await;
    let path = format!("/v1/orgs/{org_id}/resources");
    assert_eq!(get(&app, &path, Some(&alice)).await.status(), 200);
    assert_eq!(get(&app, "/no/such/path", None).await.status(), 404);

    // Never on the public listener.
    assert_eq!(get(&app, "/metrics", None).await.status(), 404);

    let text = scrape(&app).await;
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
    let dir = tempfile::tempdir().expect("dir");
    let app = cognito_app(&issuer, &dir, 0, 0).await;
    portcullis::metrics::ws_opened();
    portcullis::metrics::ws_closed(4999);
    portcullis::metrics::revocation_backend_error();
    let text = scrape(&app).await;
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

#[tokio::test]
async fn per_ip_limit_answers_429_with_retry_after_before_authentication() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let dir = tempfile::tempdir().expect("dir");
    // 1 request/s, burst 2: wait_ready may already have spent the burst.
    let app = cognito_app(&issuer, &dir, 1, 0).await;
    let mut limited = None;
    for _ in 0..5 {
        // A garbage token: the limit applies before any verification.
        let res = get(&app, "/v1/me", Some("garbage")).await;
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
        assert_eq!(res.status(), 401);
    }
    let res = limited.expect("the burst is 2 requests");
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    crate::helpers::assert_problem(res, 429).await;
    let text = scrape(&app).await;
    assert_at_least(
        &text,
        "portcullis_rate_limited_total",
        &[("scope", "ip")],
        1.0,
    );
    assert_at_least(
        &text,
        "portcullis_http_requests_total",
        &[("route", "/v1/me"), ("status", "429")],
        1.0,
    );
    // The metrics listener is not limited.
    for _ in 0..5 {
        scrape(&app).await;
    }
}

#[tokio::test]
async fn per_user_limit_applies_after_authentication_per_user() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let dir = tempfile::tempdir().expect("dir");
    let app = cognito_app(&issuer, &dir, 0, 1).await;
    let bob = issuer.issuer.mint_access(&TokenSpec::new("metrics-bob"));
    let carol = issuer.issuer.mint_access(&TokenSpec::new("metrics-carol"));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get(&app, "/v1/me", Some(&bob)).await.status().as_u16());
    }
    assert_eq!(&statuses[..2], &[200, 200], "burst of 2: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another user from the same address is not affected.
    assert_eq!(get(&app, "/v1/me", Some(&carol)).await.status(), 200);
    let text = scrape(&app).await;
    assert_at_least(
        &text,
        "portcullis_rate_limited_total",
        &[("scope", "user")],
        1.0,
    );
}

#[tokio::test]
async fn oversized_headers_are_refused_with_431() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let dir = tempfile::tempdir().expect("dir");
    let app = cognito_app(&issuer, &dir, 0, 0).await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-filler", "a".repeat(20 * 1024))
        .send()
        .await
        .expect("request");
    crate::helpers::assert_problem(res, 431).await;
}

/// `serve` logs one JSON line per request with its id, route, status, latency, user and
/// rejection reason, and no token, however it was sent.
#[tokio::test]
async fn serve_access_log_has_the_fields_and_never_a_token() {
    let dir = tempfile::tempdir().expect("dir");
    let (port, metrics_port) = (free_port(), free_port());
    let valid = mint(dir.path(), port, "log-alice");
    let other = mint(dir.path(), port, "log-bob");
    let mut child = serve_binary(dir.path(), port, metrics_port, Stdio::piped()).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = client();

    let ok = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(&valid)
        .send()
        .await
        .expect("me");
    assert_eq!(ok.status(), 200);
    let ok_id = ok.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    let user_id = ok.json::<serde_json::Value>().await.expect("json")["id"]
        .as_str()
        .expect("user id")
        .to_owned();
    // A token in the query string (refused), a garbage token, a token with a bad signature.
    let in_query = http
        .get(format!("{base}/v1/me?access_token={other}&x=1"))
        .send()
        .await
        .expect("query");
    assert_eq!(in_query.status(), 401);
    let secret_garbage = "not-a-jwt-SECRET-VALUE-4f1c";
    for t in [secret_garbage.to_owned(), bad_signature(&other)] {
        let res = http
            .get(format!("{base}/v1/me"))
            .bearer_auth(&t)
            .header("cookie", format!("session={t}"))
            .send()
            .await
            .expect("me");
        assert_eq!(res.status(), 401);
    }

    // SIGTERM, as an orchestrator stops it: the log is written in batches, and a graceful stop
    // must write every pending line before the process exits.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = child.0.wait().expect("wait");
    assert!(status.success(), "serve exited with {status}");
    let err = child.0.stderr.take().expect("stderr");
    let log: Vec<String> = BufReader::new(err).lines().map_while(Result::ok).collect();
    let all = log.join("\n");
    for (what, secret) in [
        ("the valid token", valid.as_str()),
        ("the query-string token", other.as_str()),
        ("the garbage token", secret_garbage),
    ] {
        assert!(!all.contains(secret), "{what} is in the log:\n{all}");
        // Nor any of its parts (a signature alone is still a piece of the token).
        for part in secret.split('.').filter(|p| p.len() > 16) {
            assert!(!all.contains(part), "part of {what} is in the log:\n{all}");
        }
    }
    let lines: Vec<serde_json::Value> = log
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(
        lines.last().map(|l| l["fields"]["message"].clone()),
        Some(serde_json::json!("stopped")),
        "the last line logged before exit was not written"
    );
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let line = access
        .iter()
        .find(|l| l["fields"]["request_id"] == ok_id.as_str())
        .unwrap_or_else(|| panic!("no access line for {ok_id}:\n{all}"));
    let f = &line["fields"];
    assert_eq!(f["route"], "/v1/me");
    assert_eq!(f["method"], "GET");
    assert_eq!(f["status"], 200);
    assert_eq!(f["user_id"], user_id.as_str());
    assert!(f["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{f}");
    let reasons: Vec<&str> = access
        .iter()
        .filter_map(|l| l["fields"]["reason"].as_str())
        .collect();
    for r in ["token_in_query", "malformed", "bad_signature"] {
        assert!(reasons.contains(&r), "{r} not logged: {reasons:?}");
    }
}
