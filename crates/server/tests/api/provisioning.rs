//! Just-in-time provisioning under a race: 200 concurrent first requests of one new user,
//! spread over two instances sharing one database (each instance has its own principal cache,
//! so the database upsert itself is what is raced). All succeed; exactly one row exists.
//! Also: who may pre-provision while sign-up is closed, and the bounds on what a user row holds.

use crate::support::{TestApp, assert_problem, client, postgres_admin_url};
use portcullis_dev_issuer::TokenSpec;
use portcullis_store::ConnectOptions;
use serde_json::{Value, json};
use std::collections::HashSet;

const RACERS: usize = 200;

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
    let c = TestApp::sqlite().start_cluster().await;
    let ids = race(
        &c.a,
        &c.b,
        c.a.caller_with(TokenSpec::new("newcomer")).token(),
    )
    .await;
    assert_eq!(ids.len(), 1, "one user id for all: {ids:?}");
    let store = portcullis_store_sqlite::SqliteStore::connect(
        c.a.database_url(),
        &ConnectOptions::default(),
    )
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
    let mut c = TestApp::postgres(&admin).start_cluster().await;
    let ids = race(
        &c.a,
        &c.b,
        c.a.caller_with(TokenSpec::new("newcomer")).token(),
    )
    .await;
    assert_eq!(ids.len(), 1, "one user id for all: {ids:?}");
    let store =
        portcullis_store_postgres::PgStore::connect(c.a.database_url(), &ConnectOptions::default())
            .expect("pool");
    let rows = store
        .execute_raw_sql("UPDATE users SET email = email WHERE sub = 'newcomer'")
        .await
        .expect("count");
    assert_eq!(rows, 1);
    c.a.stop().await.expect("stop a");
    c.b.stop().await.expect("stop b");
}

fn add(sub: &str) -> Value {
    json!({ "sub": sub, "role": "viewer" })
}

#[tokio::test]
async fn while_signup_is_closed_only_platform_admins_preprovision() {
    let app = TestApp::sqlite().start().await;
    let root = app.admin("root");
    let owner = app.caller("owner");
    let org = owner.create_org("Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    app.caller("existing").get("/v1/me").expect(200).await;
    root.set_flag("jit.provisioning", json!({"value": false}))
        .await;

    // Creating an org makes anyone an owner, so an owner's pre-provisioning would reopen
    // sign-up: refused, with a body that says why, and no row is made.
    let res = owner.post(&members).json(add("invited")).send().await;
    let body = assert_problem(res, 403).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("only platform admins may pre-provision")
            && detail.contains("sign-up is closed"),
        "{body}"
    );
    let invited = app.caller("invited");
    invited.get("/v1/me").expect(403).await;
    // A user who already has a row is added as before.
    owner.post(&members).json(add("existing")).expect(201).await;
    // A platform admin pre-provisions, and the invited user then signs in.
    root.post(&members).json(add("invited")).expect(201).await;
    invited.get("/v1/me").expect(200).await;

    // With sign-up open, owners pre-provision as before.
    root.set_flag("jit.provisioning", json!({"value": true}))
        .await;
    owner.post(&members).json(add("newcomer")).expect(201).await;
}

#[tokio::test]
async fn a_member_sub_over_255_bytes_is_422_naming_the_field() {
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = owner.create_org("Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    let long = "s".repeat(256);
    let res = owner.post(&members).json(add(&long)).send().await;
    let body = assert_problem(res, 422).await;
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
    owner
        .post(&members)
        .json(add(&"s".repeat(255)))
        .expect(201)
        .await;
}

#[tokio::test]
async fn oversized_profile_claims_are_stored_as_absent() {
    let app = TestApp::sqlite().start().await;
    let me = app
        .caller_with(
            TokenSpec::new("profile")
                .username("u".repeat(129))
                .claim("email", format!("{}@example.test", "e".repeat(308))),
        )
        .get("/v1/me")
        .expect(200)
        .await;
    assert_eq!(me["sub"], "profile");
    assert_eq!(me["username"], Value::Null);
    assert_eq!(me["email"], Value::Null);
    // At the limits they are kept (another user: the first one's identity is cached).
    let me = app
        .caller_with(
            TokenSpec::new("profile-2")
                .username("u".repeat(128))
                .claim("email", format!("{}@example.test", "e".repeat(307))),
        )
        .get("/v1/me")
        .expect(200)
        .await;
    assert_eq!(me["username"].as_str().map(str::len), Some(128));
    assert_eq!(me["email"].as_str().map(str::len), Some(320));
}

#[tokio::test]
async fn a_token_sub_over_255_bytes_is_an_invalid_token() {
    let app = TestApp::sqlite().start().await;
    let res = app
        .caller_with(TokenSpec::new("s".repeat(256)))
        .get("/v1/me")
        .send()
        .await;
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
    assert_problem(res, 401).await;
    app.caller_with(TokenSpec::new("s".repeat(255)))
        .get("/v1/me")
        .expect(200)
        .await;
}
