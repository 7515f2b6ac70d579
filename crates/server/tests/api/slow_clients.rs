//! The slow-client timeouts, over raw TCP so the test controls every byte and its timing: a
//! client trickling its request head is disconnected without an answer, an idle kept-alive
//! connection is closed, a client that is merely not instant is served, and a client that
//! stops reading its answers is disconnected (the send timeout).

use crate::support::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(1);

async fn app_with_short_header_timeout() -> TestApp {
    TestApp::sqlite()
        .with_config(|c| {
            c.header_read_timeout_secs = TIMEOUT.as_secs();
            c.send_timeout_secs = TIMEOUT.as_secs();
        })
        .start()
        .await
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
    let app = app_with_short_header_timeout().await;
    let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
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
        received.is_empty(),
        "an incomplete request was answered: {}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let app = app_with_short_header_timeout().await;
    let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
    // Taken before the request: the server's idle clock starts later, once it has answered.
    let sent_at = Instant::now();
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
    let (_, closed) = read_until_closed(&mut stream, TIMEOUT * 5).await;
    assert!(closed, "an idle connection was kept open past the timeout");
    assert!(
        sent_at.elapsed() >= TIMEOUT,
        "closed too early: {:?}",
        sent_at.elapsed()
    );
}

#[tokio::test]
async fn a_head_sent_in_pieces_within_the_timeout_is_served() {
    let app = app_with_short_header_timeout().await;
    let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
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

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    let app = app_with_short_header_timeout().await;
    let one = app
        .anonymous()
        .get("/openapi.json")
        .send()
        .await
        .bytes()
        .await
        .expect("body")
        .len();
    // Enough pipelined answers to fill any socket buffers (a few MB on loopback) many times
    // over; the client then reads nothing for a while.
    let requests = (32 * 1024 * 1024 / one.max(1)).clamp(64, 4096);
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stream = socket.connect(app.addr()).await.expect("connect");
    let pipelined = b"GET /openapi.json HTTP/1.1\r\nHost: portcullis\r\n\r\n".repeat(requests);
    stream.write_all(&pipelined).await.expect("requests");
    tokio::time::sleep(TIMEOUT * 3).await;
    // Now read: what the kernel had already accepted, then the end of the connection.
    let (received, closed) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    let answered = String::from_utf8_lossy(&received)
        .matches("HTTP/1.1 200 OK")
        .count();
    assert!(closed, "a stalled connection was kept open");
    assert!(
        answered < requests,
        "all {requests} answers were sent to a client that did not read"
    );
}
