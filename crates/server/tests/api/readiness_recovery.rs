//! `/readyz` follows the database through an outage and back, without a restart. The outage is
//! made by a TCP proxy between the app and PostgreSQL that the test stops and restarts.

use crate::helpers::{Proxy, assert_problem, postgres_admin_url, spawn_with, test_config};
use portcullis_store_postgres::testdb::TestDatabase;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

async fn wait_for_status(
    client: &reqwest::Client,
    url: &str,
    want: u16,
    within: Duration,
) -> reqwest::Response {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(res) = client.get(url).send().await
            && res.status().as_u16() == want
        {
            return res;
        }
        assert!(
            Instant::now() < deadline,
            "{url} did not answer {want} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_a_postgres_outage_and_recovers_without_restart() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let db = TestDatabase::create(&admin).await.expect("test database");
    let mut url = reqwest::Url::parse(db.url()).expect("database URL");
    let upstream: SocketAddr = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    )
    .parse()
    .expect("the test database URL uses an IP address");
    let (proxy, proxy_addr) = Proxy::start("127.0.0.1:0".parse().expect("addr"), upstream).await;
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy_addr.port())).expect("port");

    let mut config = test_config(url.as_str());
    config.database.acquire_timeout_secs = 1;
    let t = spawn_with(&config).await;
    let readyz = t.url("/readyz");

    wait_for_status(&t.client, &readyz, 200, Duration::from_secs(5)).await;

    proxy.stop().await;
    let res = wait_for_status(&t.client, &readyz, 503, Duration::from_secs(5)).await;
    let body = assert_problem(res, 503).await;
    assert_eq!(
        body["detail"],
        "The service is temporarily unavailable. Retry later."
    );
    let text = body.to_string().to_ascii_lowercase();
    for leak in [
        "sqlx",
        "connection",
        "postgres",
        "refused",
        "io error",
        "tcp",
    ] {
        assert!(!text.contains(leak), "503 body leaks {leak:?}: {text}");
    }

    let (proxy, _) = Proxy::start(proxy_addr, upstream).await;
    wait_for_status(&t.client, &readyz, 200, Duration::from_secs(10)).await;

    proxy.stop().await;
    t.app.stop().await.expect("clean stop");
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_at_start_up_starts_unready_then_becomes_ready() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let db = TestDatabase::create(&admin).await.expect("test database");
    let mut url = reqwest::Url::parse(db.url()).expect("database URL");
    let upstream: SocketAddr = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    )
    .parse()
    .expect("the test database URL uses an IP address");
    // Reserve a port, then free it: nothing listens there until the proxy starts.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(port)).expect("port");

    let mut config = test_config(url.as_str());
    config.database.acquire_timeout_secs = 1;
    let t = spawn_with(&config).await;
    let readyz = t.url("/readyz");
    let res = t.client.get(&readyz).send().await.expect("request");
    assert_problem(res, 503).await;
    let res = t
        .client
        .get(t.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200, "alive even while the database is down");

    let proxy_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let (proxy, _) = Proxy::start(proxy_addr, upstream).await;
    wait_for_status(&t.client, &readyz, 200, Duration::from_secs(20)).await;

    proxy.stop().await;
    t.app.stop().await.expect("clean stop");
    drop(db);
}
