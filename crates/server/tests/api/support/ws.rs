//! A WebSocket client for `GET /v1/ws` (tokio-tungstenite): frames as JSON values, and the
//! close code the server ended with.

use super::app::TestApp;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What the server sent next.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed(u16),
}

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens `/v1/ws{query}`, with the token in the `Authorization` header when given.
pub async fn try_connect(app: &TestApp, query: &str, token: Option<&str>) -> Result<Ws, WsError> {
    let mut req = app
        .url(&format!("/v1/ws{query}"))
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .expect("request");
    if let Some(t) = token {
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}")).expect("header"),
        );
    }
    let (stream, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(Ws { stream })
}

/// Opens `/v1/ws` with exactly these request headers (a DPoP handshake, say).
pub async fn try_connect_with(app: &TestApp, headers: &[(&str, &str)]) -> Result<Ws, WsError> {
    let mut req = app
        .url("/v1/ws")
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .expect("request");
    for (name, value) in headers {
        req.headers_mut().append(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .expect("header name"),
            HeaderValue::from_str(value).expect("header"),
        );
    }
    let (stream, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(Ws { stream })
}

/// Connects with the token in the header and waits for `ready`.
pub async fn connect(app: &TestApp, token: &str) -> (Ws, Value) {
    let mut ws = try_connect(app, "", Some(token)).await.expect("upgrade");
    let ready = ws.expect("ready").await;
    (ws, ready)
}

/// Connects as `token` and subscribes to `org`.
pub async fn subscriber(app: &TestApp, token: &str, org: &str) -> Ws {
    let (mut ws, _) = connect(app, token).await;
    ws.send(json!({"type": "subscribe", "org_id": org})).await;
    ws.expect("subscribed").await;
    ws
}

impl Ws {
    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send");
    }

    /// The next message or close, within 10 s.
    pub async fn next(&mut self) -> Frame {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("the server sent nothing within 10 s")
    }

    pub async fn next_within(&mut self, limit: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Some(Frame::Json(serde_json::from_str(&t).expect("JSON")));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Frame::Closed(frame.map_or(1005, |f| u16::from(f.code))));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error instead of a close frame: {e}"),
                None => panic!("connection ended without a close frame"),
            }
        }
    }

    /// The next frame must be a message of type `ty`.
    pub async fn expect(&mut self, ty: &str) -> Value {
        match self.next().await {
            Frame::Json(v) if v["type"] == ty => v,
            other => panic!("expected {ty}, got {other:?}"),
        }
    }

    /// The next frame must be a message (of any type).
    pub async fn message(&mut self) -> Value {
        match self.next().await {
            Frame::Json(v) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Reads until the close frame (failing on `forbidden` message types), returning its code
    /// and how long it took.
    pub async fn closed(&mut self, forbidden: &[&str]) -> (u16, Duration) {
        let start = Instant::now();
        loop {
            match self.next().await {
                Frame::Closed(code) => return (code, start.elapsed()),
                Frame::Json(v) => {
                    let ty = v["type"].as_str().unwrap_or_default();
                    assert!(!forbidden.contains(&ty), "unexpected {v}");
                }
            }
        }
    }
}
