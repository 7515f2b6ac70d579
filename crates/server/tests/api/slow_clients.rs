//! The header-read timeout, over raw TCP so the test controls every byte and its timing: a
//! client trickling its request head is disconnected without an answer, an idle kept-alive
//! connection is closed, and a client that is merely not instant is served.

use crate::helpers::{spawn_with, test_config};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(1);

async fn app_with_short_header_timeout() -> (crate::helpers::TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(&format!("sqlite://{}/portcullis.db", dir.path().display()));
    config.header_read_timeout_secs = TIMEOUT.as_secs();
    (spawn_with(&config).await, dir)
}

/// Reads until the server closes the connection (or `limit` passes); returns what arrived and
/// whether the connection was closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => return (received, false),
        }
    }
}

#[tokio::test]
async fn a_trickled_request_head_is_cut_off_without_an_answer() {
    let (app, _dir) = app_with_short_header_timeout().await;
    let mut stream = TcpStream::connect(app.app.addr).await.expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: portcullis\r\n")
        .await
        .expect("request line");
    // One header byte every 200 ms: the connection stays busy, the head never completes.
    let mut closed_by_server = false;
    for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream.write_all(&[*byte]).await.is_err() {
            closed_by_server = true;
            break;
        }
        if started.elapsed() > TIMEOUT * 5 {
            break;
        }
    }
    let (received, closed) = read_until_closed(&mut stream, TIMEOUT * 3).await;
    assert!(
        closed_by_server || closed,
        "the connection was still open {:?} after it started",
        started.elapsed()
    );
    assert!(
        started.elapsed() < TIMEOUT * 6,
        "closed only after {:?}",
        started.elapsed()
    );
    assert!(
        !String::from_utf8_lossy(&received).contains("200 OK"),
        "an incomplete request was answered: {}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let (app, _dir) = app_with_short_header_timeout().await;
    let mut stream = TcpStream::connect(app.app.addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: portcullis\r\n\r\n")
        .await
        .expect("request");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.expect("response");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let idle_from = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, TIMEOUT * 5).await;
    assert!(closed, "an idle connection was kept open past the timeout");
    assert!(
        idle_from.elapsed() >= TIMEOUT.mul_f32(0.9),
        "closed too early: {:?}",
        idle_from.elapsed()
    );
}

#[tokio::test]
async fn a_head_sent_in_pieces_within_the_timeout_is_served() {
    let (app, _dir) = app_with_short_header_timeout().await;
    let mut stream = TcpStream::connect(app.app.addr).await.expect("connect");
    for piece in [
        &b"GET /healthz HTT"[..],
        b"P/1.1\r\nHost: portc",
        b"ullis\r\nConnection: close\r\n\r\n",
    ] {
        stream.write_all(piece).await.expect("piece");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (received, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("x-request-id:"), "{text}");
    assert!(closed, "Connection: close was not honoured");
}
