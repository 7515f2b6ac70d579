//! Just-in-time provisioning under a race: 200 concurrent first requests of one new user,
//! spread over two instances sharing one database (each instance has its own principal cache,
//! so the database upsert itself is what is raced). All succeed; exactly one row exists.
//! Also: who may pre-provision while sign-up is closed, and the bounds on what a user row holds.

use crate::helpers::{TestApp, client, postgres_admin_url, spawn_with, test_config};
use crate::tenant;
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use portcullis_store::ConnectOptions;
use reqwest::Method;
use std::collections::HashSet;

/// Both instances name the dev issuer the same way, so either accepts the other's tokens.
const ISSUER: &str = "http://127.0.0.1:1/dev-issuer";
const RACERS: usize = 200;

async fn two_instances(database_url: &str, data_dir: &std::path::Path) -> (TestApp, TestApp) {
    let mut config = test_config(database_url);
    config.data_dir = data_dir.to_owned();
    config.auth.issuer = Some(ISSUER.into());
    let a = spawn_with(&config).await;
    let b = spawn_with(&config).await;
    (a, b)
}

async fn race(a: &TestApp, b: &TestApp, token: &str) -> HashSet<String> {
    let mut tasks = tokio::task::JoinSet::new();
    // One client (one connection pool) for all racers: building 200 clients would measure
    // client set-up, not the server.
    let http = client();
    for i in 0..RACERS {
        let url = if i % 2 == 0 {
            a.url("/v1/me")
        } else {
            b.url("/v1/me")
        };
        let token = token.to_owned();
        let http = http.clone();
        tasks.spawn(async move {
            let res = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.expect("json");
            (status, body["id"].as_str().unwrap_or_default().to_owned())
        });
    }
    let mut ids = HashSet::new();
    while let Some(done) = tasks.join_next().await {
        let (status, id) = done.expect("task");
        assert_eq!(status, 200, "every concurrent first request succeeds");
        ids.insert(id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_create_one_user_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let (a, b) = two_instances(&url, dir.path()).await;
    let issuer = DevIssuer::open(dir.path(), ISSUER.into()).expect("issuer");
    let ids = race(&a, &b, &issuer.mint_access(&TokenSpec::new("newcomer"))).await;
    assert_eq!(ids.len(), 1, "one user id for all: {ids:?}");
    let store = portcullis_store_sqlite::SqliteStore::connect(&url, &ConnectOptions::default())
        .await
        .expect("open");
    // A no-op UPDATE reports how many rows match.
    let rows = store
        .execute_raw_sql("UPDATE users SET email = email WHERE sub = 'newcomer'")
        .await
        .expect("count");
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_create_one_user_on_postgres() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let db = portcullis_store_postgres::testdb::TestDatabase::create(&admin)
        .await
        .expect("test database");
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = two_instances(db.url(), dir.path()).await;
    let issuer = DevIssuer::open(dir.path(), ISSUER.into()).expect("issuer");
    let ids = race(&a, &b, &issuer.mint_access(&TokenSpec::new("newcomer"))).await;
    assert_eq!(ids.len(), 1, "one user id for all: {ids:?}");
    let store = portcullis_store_postgres::PgStore::connect(db.url(), &ConnectOptions::default())
        .expect("pool");
    let rows = store
        .execute_raw_sql("UPDATE users SET email = email WHERE sub = 'newcomer'")
        .await
        .expect("count");
    assert_eq!(rows, 1);
    a.app.stop().await.expect("stop a");
    b.app.stop().await.expect("stop b");
}

fn add(sub: &str) -> Option<serde_json::Value> {
    Some(serde_json::json!({ "sub": sub, "role": "viewer" }))
}

#[tokio::test]
async fn while_signup_is_closed_only_platform_admins_preprovision() {
    let t = tenant::start().await;
    let root = t.admin_token("root");
    let owner = t.token("owner");
    let org = t.create_org(&owner, "Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    t.ok(&t.token("existing"), Method::GET, "/v1/me", None, 200)
        .await;
    t.ok(
        &root,
        Method::PUT,
        "/v1/admin/flags/jit.provisioning",
        Some(serde_json::json!({"value": false})),
        200,
    )
    .await;

    // Creating an org makes anyone an owner, so an owner's pre-provisioning would reopen
    // sign-up: refused, with a body that says why, and no row is made.
    let res = t
        .call(Some(&owner), Method::POST, &members, add("invited"))
        .await;
    let body = crate::helpers::assert_problem(res, 403).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("only platform admins may pre-provision")
            && detail.contains("sign-up is closed"),
        "{body}"
    );
    let invited = t.token("invited");
    t.ok(&invited, Method::GET, "/v1/me", None, 403).await;
    // A user who already has a row is added as before.
    t.ok(&owner, Method::POST, &members, add("existing"), 201)
        .await;
    // A platform admin pre-provisions, and the invited user then signs in.
    t.ok(&root, Method::POST, &members, add("invited"), 201)
        .await;
    t.ok(&invited, Method::GET, "/v1/me", None, 200).await;

    // With sign-up open, owners pre-provision as before.
    t.ok(
        &root,
        Method::PUT,
        "/v1/admin/flags/jit.provisioning",
        Some(serde_json::json!({"value": true})),
        200,
    )
    .await;
    t.ok(&owner, Method::POST, &members, add("newcomer"), 201)
        .await;
}

#[tokio::test]
async fn a_member_sub_over_255_bytes_is_422_naming_the_field() {
    let t = tenant::start().await;
    let owner = t.token("owner");
    let org = t.create_org(&owner, "Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    let long = "s".repeat(256);
    let res = t
        .call(Some(&owner), Method::POST, &members, add(&long))
        .await;
    let body = crate::helpers::assert_problem(res, 422).await;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/sub");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("255"))
    );
    assert!(
        !body.to_string().contains(&long),
        "the value is never echoed"
    );
    t.ok(&owner, Method::POST, &members, add(&"s".repeat(255)), 201)
        .await;
}

#[tokio::test]
async fn oversized_profile_claims_are_stored_as_absent() {
    let t = tenant::start().await;
    let token = t.issuer.mint_access(
        &TokenSpec::new("profile")
            .username("u".repeat(129))
            .claim("email", format!("{}@example.test", "e".repeat(308))),
    );
    let me = t.ok(&token, Method::GET, "/v1/me", None, 200).await;
    assert_eq!(me["sub"], "profile");
    assert_eq!(me["username"], serde_json::Value::Null);
    assert_eq!(me["email"], serde_json::Value::Null);
    // At the limits they are kept (another user: the first one's identity is cached).
    let token = t.issuer.mint_access(
        &TokenSpec::new("profile-2")
            .username("u".repeat(128))
            .claim("email", format!("{}@example.test", "e".repeat(307))),
    );
    let me = t.ok(&token, Method::GET, "/v1/me", None, 200).await;
    assert_eq!(me["username"].as_str().map(str::len), Some(128));
    assert_eq!(me["email"].as_str().map(str::len), Some(320));
}

#[tokio::test]
async fn a_token_sub_over_255_bytes_is_an_invalid_token() {
    let t = tenant::start().await;
    let token = t.issuer.mint_access(&TokenSpec::new("s".repeat(256)));
    let res = t.call(Some(&token), Method::GET, "/v1/me", None).await;
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    crate::helpers::assert_problem(res, 401).await;
    let token = t.issuer.mint_access(&TokenSpec::new("s".repeat(255)));
    t.ok(&token, Method::GET, "/v1/me", None, 200).await;
}
