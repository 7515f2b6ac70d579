//! The body limit, unreadable bodies and the request timeout. The chunked-body-limit and timeout
//! cases run the production layer stack (`with_common_layers`) around test-only routes (a
//! handler that sleeps, a plain byte sink); the Content-Length and broken-framing cases go
//! through the real app.

use crate::helpers::{assert_problem, client, spawn_sqlite};
use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use portcullis::http::{HttpSettings, MAX_BODY_BYTES, with_common_layers};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn declared_oversized_body_is_413_on_the_real_app() {
    let t = spawn_sqlite().await;
    let res = t
        .client
        .post(t.url("/healthz"))
        .body(vec![b'x'; MAX_BODY_BYTES + 1])
        .send()
        .await
        .expect("request");
    assert_problem(res, 413).await;
}

async fn serve_test_router() -> SocketAddr {
    let routes = Router::new()
        .route(
            "/echo",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let app = with_common_layers(
        routes,
        &HttpSettings {
            request_timeout: Duration::from_millis(200),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let addr = serve_test_router().await;
    let res = client()
        .post(format!("http://{addr}/echo"))
        .body(vec![b'x'; MAX_BODY_BYTES])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("text"), MAX_BODY_BYTES.to_string());
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413_problem() {
    let addr = serve_test_router().await;
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /echo HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    s.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b'x'; 64 * 1024];
    // The server may answer and close before the whole body is sent; write errors are expected.
    for _ in 0..(MAX_BODY_BYTES / chunk.len() + 2) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if s.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 413"), "{text}");
    assert!(
        text.contains("content-type: application/problem+json"),
        "{text}"
    );
    assert!(text.contains("x-request-id: "), "{text}");
}

#[tokio::test]
async fn slow_handler_times_out_with_503_problem() {
    let addr = serve_test_router().await;
    let res = client()
        .get(format!("http://{addr}/slow"))
        .send()
        .await
        .expect("request");
    assert_problem(res, 503).await;
}

#[tokio::test]
async fn a_body_with_broken_chunk_framing_is_400_not_413() {
    let t = crate::tenant::start().await;
    let token = t.token("alice");
    let mut s = tokio::net::TcpStream::connect(t.app.app.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/orgs HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("head");
    // A first chunk, then a chunk size that is not hexadecimal.
    let _ = s.write_all(b"5\r\n{\"nam\r\nzz\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 400"), "{text}");
    assert!(
        text.contains("content-type: application/problem+json"),
        "{text}"
    );
}
