//! Graceful shutdown: in-flight requests finish, bounded by the grace period. Run through
//! `listen::serve` (what `App::run` uses for both listeners) with a test-only slow route.

use crate::support::client;
use axum::Router;
use axum::routing::get;
use portcullis::http::{HttpSettings, with_common_layers};
use portcullis::listen::{ServeSettings, serve};
use portcullis::shutdown::Shutdown;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A server with one route, `/slow`, that reports on `started` when a request reaches it and
/// answers "done" after `handler_delay`.
async fn start(
    handler_delay: Duration,
    grace: Duration,
) -> (
    SocketAddr,
    Shutdown,
    JoinHandle<anyhow::Result<()>>,
    mpsc::Receiver<()>,
) {
    let (started_tx, started) = mpsc::channel::<()>(8);
    let routes = Router::new().route(
        "/slow",
        get(move || {
            let started_tx = started_tx.clone();
            async move {
                let _ = started_tx.send(()).await;
                tokio::time::sleep(handler_delay).await;
                "done"
            }
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
        send_timeout: Duration::from_secs(30),
        max_connections: 100,
    };
    let server = tokio::spawn(serve(listener, router, shutdown.clone(), settings));
    (addr, shutdown, server, started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_request_completes_after_shutdown_is_triggered() {
    let grace = Duration::from_secs(10);
    let (addr, shutdown, server, mut started) = start(Duration::from_millis(800), grace).await;
    let in_flight = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
    started
        .recv()
        .await
        .expect("the request reached the handler");
    let triggered = Instant::now();
    shutdown.trigger();
    let res = in_flight
        .await
        .expect("task")
        .expect("in-flight request answered");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "done");
    server.await.expect("task").expect("server stops cleanly");
    // The drain ends when the last request does, not when the grace period runs out.
    assert!(
        triggered.elapsed() < grace / 2,
        "stopped after {:?}",
        triggered.elapsed()
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_period_bounds_the_drain() {
    let (addr, shutdown, server, mut started) =
        start(Duration::from_secs(30), Duration::from_millis(300)).await;
    let in_flight = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
    started
        .recv()
        .await
        .expect("the request reached the handler");
    let triggered = Instant::now();
    shutdown.trigger();
    server.await.expect("task").expect("server stops");
    assert!(
        triggered.elapsed() < Duration::from_secs(3),
        "{:?}",
        triggered.elapsed()
    );
    // The request was still running: the server returned because of the grace period. (Its
    // connection task ends when the runtime does: process exit in the binary.)
    assert!(!in_flight.is_finished());
    in_flight.abort();
}
