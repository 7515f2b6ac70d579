//! The rate limits (429 with `Retry-After`, per address before authentication and per user
//! after it), the header size limit (431), the body limit, unreadable bodies and the request
//! timeout. The chunked-body-limit and timeout
//! cases run the production layer stack (`with_common_layers`) around test-only routes (a
//! handler that sleeps, a plain byte sink); the Content-Length and broken-framing cases go
//! through the real app.

use crate::support::samples::assert_at_least;
use crate::support::{TestApp, assert_problem, client};
use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use portcullis::http::{HttpSettings, MAX_BODY_BYTES, with_common_layers};
use portcullis_dev_issuer::{LoopbackIssuer, TokenSpec};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn declared_oversized_body_is_413_on_the_real_app() {
    let app = TestApp::sqlite().start().await;
    let res = app
        .anonymous()
        .post("/healthz")
        .body(vec![b'x'; MAX_BODY_BYTES + 1])
        .send()
        .await;
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
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let token = alice.token();
    let mut s = tokio::net::TcpStream::connect(app.addr())
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

/// An app verifying the tokens of a real HTTP issuer on loopback, with these rate limits
/// (requests per second per address and per user; 0 is off), ready.
async fn limited_app(issuer: &LoopbackIssuer, per_ip: u32, per_user: u32) -> TestApp {
    let app = TestApp::sqlite()
        .cognito(&issuer.issuer)
        .with_config(move |c| {
            c.rate_limit.per_ip = per_ip;
            c.rate_limit.per_user = per_user;
        })
        .start()
        .await;
    app.wait_ready().await;
    app
}

#[tokio::test]
async fn per_ip_limit_answers_429_with_retry_after_before_authentication() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    // 1 request/s, burst 2: wait_ready may already have spent the burst.
    let app = limited_app(&issuer, 1, 0).await;
    let mut limited = None;
    for _ in 0..5 {
        // A garbage token: the limit applies before any verification.
        let res = app.bearer("garbage").get("/v1/me").send().await;
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
        assert_eq!(res.status(), 401);
    }
    let res = limited.expect("the burst is 2 requests");
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_problem(res, 429).await;
    let text = app.scrape().await;
    assert_at_least(
        &text,
        "portcullis_rate_limited_total",
        &[("scope", "ip")],
        1.0,
    );
    assert_at_least(
        &text,
        "portcullis_http_requests_total",
        &[("route", "/v1/me"), ("status", "429")],
        1.0,
    );
    // The metrics listener is not limited.
    for _ in 0..5 {
        app.scrape().await;
    }
}

#[tokio::test]
async fn per_user_limit_applies_after_authentication_per_user() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = limited_app(&issuer, 0, 1).await;
    let bob = app.caller_with(TokenSpec::new("metrics-bob"));
    let carol = app.caller_with(TokenSpec::new("metrics-carol"));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(bob.me().await);
    }
    assert_eq!(&statuses[..2], &[200, 200], "burst of 2: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another user from the same address is not affected.
    assert_eq!(carol.me().await, 200);
    let text = app.scrape().await;
    assert_at_least(
        &text,
        "portcullis_rate_limited_total",
        &[("scope", "user")],
        1.0,
    );
}

#[tokio::test]
async fn oversized_headers_are_refused_with_431() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = limited_app(&issuer, 0, 0).await;
    let res = app
        .anonymous()
        .get("/healthz")
        .header("x-filler", &"a".repeat(20 * 1024))
        .send()
        .await;
    assert_problem(res, 431).await;
}
