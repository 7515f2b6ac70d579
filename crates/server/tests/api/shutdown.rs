//! Graceful shutdown: in-flight requests finish, bounded by the grace period. Run through
//! `listen::serve` (what `App::run` uses for both listeners) with a test-only slow route.

use crate::helpers::client;
use axum::Router;
use axum::routing::get;
use portcullis::http::{HttpSettings, with_common_layers};
use portcullis::listen::{ServeSettings, serve};
use portcullis::shutdown::Shutdown;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

async fn start(
    handler_delay: Duration,
    grace: Duration,
) -> (SocketAddr, Shutdown, JoinHandle<anyhow::Result<()>>) {
    let routes = Router::new().route(
        "/slow",
        get(move || async move {
            tokio::time::sleep(handler_delay).await;
            "done"
        }),
    );
    let router = with_common_layers(
        routes,
        &HttpSettings {
            request_timeout: Duration::from_secs(30),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = Shutdown::new();
    let settings = ServeSettings {
        grace,
        header_read_timeout: Duration::from_secs(30),
    };
    let server = tokio::spawn(serve(listener, router, shutdown.clone(), settings));
    (addr, shutdown, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_request_completes_after_shutdown_is_triggered() {
    let (addr, shutdown, server) = start(Duration::from_millis(800), Duration::from_secs(10)).await;
    let in_flight = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    shutdown.trigger();
    let res = in_flight
        .await
        .expect("task")
        .expect("in-flight request answered");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "done");
    server.await.expect("task").expect("server stops cleanly");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_period_bounds_the_drain() {
    let (addr, shutdown, server) = start(Duration::from_secs(30), Duration::from_millis(300)).await;
    let in_flight = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    shutdown.trigger();
    server.await.expect("task").expect("server stops");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The connection task itself ends when the runtime does (process exit in the binary).
    in_flight.abort();
}
