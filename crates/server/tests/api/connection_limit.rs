//! `max_client_connections`: with the limit reached, a new connection is not served until an
//! open one closes, and then it is. A connection upgraded to a WebSocket counts until the
//! socket closes.

use crate::support::TestApp;
use crate::support::ws::connect;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: portcullis\r\nConnection: close\r\n\r\n";

/// The start of the answer, or `None` if nothing came in `limit`.
async fn answer_within(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(limit, stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn past_the_limit_connections_wait_until_one_closes() {
    let app = TestApp::sqlite()
        .with_config(|c| c.max_client_connections = 2)
        .start()
        .await;
    let addr = app.addr();
    let held: Vec<TcpStream> = futures_util::future::join_all(
        (0..2).map(|_| async move { TcpStream::connect(addr).await.expect("connect") }),
    )
    .await;
    // The kernel completes the handshake, but the server does not take the connection.
    let mut third = TcpStream::connect(addr)
        .await
        .expect("queued by the kernel");
    third.write_all(HEALTHZ).await.expect("request");
    let early = answer_within(&mut third, Duration::from_millis(800)).await;
    assert_eq!(early, None, "a connection past the limit was served");
    drop(held);
    let late = answer_within(&mut third, Duration::from_secs(5)).await;
    // The request was sent before the slot freed; it is read and answered once accepted.
    let late = late.unwrap_or_default();
    assert!(late.starts_with("HTTP/1.1 200"), "{late:?}");
}

#[tokio::test]
async fn open_websockets_keep_their_connection_slots() {
    let app = TestApp::sqlite()
        .with_config(|c| c.max_client_connections = 2)
        .start()
        .await;
    // Tokens are minted on the test side: no HTTP call takes a slot before the sockets do.
    let (first, _) = connect(&app, app.caller("alice").token()).await;
    let (mut second, _) = connect(&app, app.caller("bob").token()).await;
    let mut third = TcpStream::connect(app.addr())
        .await
        .expect("queued by the kernel");
    third.write_all(HEALTHZ).await.expect("request");
    let early = answer_within(&mut third, Duration::from_millis(800)).await;
    assert_eq!(early, None, "served while two sockets held both slots");
    // Both sockets are live, not half-closed connections.
    second.send(serde_json::json!({"type": "ping"})).await;
    second.expect("pong").await;
    drop(first);
    let late = answer_within(&mut third, Duration::from_secs(5)).await;
    let late = late.unwrap_or_default();
    assert!(late.starts_with("HTTP/1.1 200"), "{late:?}");
}
