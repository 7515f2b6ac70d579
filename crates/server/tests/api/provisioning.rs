//! Just-in-time provisioning under a race: 200 concurrent first requests of one new user,
//! spread over two instances sharing one database (each instance has its own principal cache,
//! so the database upsert itself is what is raced). All succeed; exactly one row exists.

use crate::helpers::{TestApp, client, postgres_admin_url, spawn_with, test_config};
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use portcullis_store::ConnectOptions;
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
