//! `/readyz` follows the database through an outage and back, without a restart. The outage is
//! made by a TCP proxy between the app and PostgreSQL that the test stops and restarts.

use crate::support::proxy::Proxy;
use crate::support::{TestApp, assert_problem, postgres_admin_url};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

async fn wait_for_status(
    app: &TestApp,
    path: &str,
    want: u16,
    within: Duration,
) -> reqwest::Response {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(res) = app.client.get(app.url(path)).send().await
            && res.status().as_u16() == want
        {
            return res;
        }
        assert!(
            Instant::now() < deadline,
            "{path} did not answer {want} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Where the PostgreSQL server named by `admin` listens.
fn postgres_addr(admin: &str) -> SocketAddr {
    let url = reqwest::Url::parse(admin).expect("database URL");
    format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    )
    .parse()
    .expect("the test database URL uses an IP address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_a_postgres_outage_and_recovers_without_restart() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let upstream = postgres_addr(&admin);
    let (proxy, proxy_addr) = Proxy::to(upstream).await;
    let mut app = TestApp::postgres(&admin)
        .database_through(proxy_addr.port())
        .with_config(|c| c.database.acquire_timeout_secs = 1)
        .start()
        .await;

    wait_for_status(&app, "/readyz", 200, Duration::from_secs(5)).await;

    proxy.stop().await;
    let res = wait_for_status(&app, "/readyz", 503, Duration::from_secs(5)).await;
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
    wait_for_status(&app, "/readyz", 200, Duration::from_secs(10)).await;

    proxy.stop().await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_at_start_up_starts_unready_then_becomes_ready() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let upstream = postgres_addr(&admin);
    // Reserve a port, then free it: nothing listens there until the proxy starts.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut app = TestApp::postgres(&admin)
        .database_through(port)
        .with_config(|c| c.database.acquire_timeout_secs = 1)
        .start()
        .await;
    let res = app.anonymous().get("/readyz").send().await;
    assert_problem(res, 503).await;
    let res = app.anonymous().get("/healthz").send().await;
    assert_eq!(res.status(), 200, "alive even while the database is down");

    let proxy_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let (proxy, _) = Proxy::start(proxy_addr, upstream).await;
    wait_for_status(&app, "/readyz", 200, Duration::from_secs(20)).await;

    proxy.stop().await;
    app.stop().await.expect("clean stop");
}
