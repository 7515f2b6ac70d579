//! The caps on WebSockets (`[ws]`): open sockets per user (429 before the upgrade with a
//! header token, 4429 after a first-message `auth`), and sockets waiting for their `auth` (503
//! before the upgrade).

use crate::helpers::test_config;
use crate::tenant::{self, Tenant};
use crate::websocket::{Ws, connect, try_connect};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Error as WsError;

async fn start(configure: impl FnOnce(&mut portcullis::config::WsConfig)) -> Tenant {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = test_config(&format!("sqlite://{}/p.db", dir.path().display()));
    config.data_dir = dir.path().to_owned();
    configure(&mut config.ws);
    tenant::start_with(config, dir).await
}

/// The upgrade must be refused with `status` and a problem document.
fn assert_refused(result: Result<Ws, WsError>, status: u16) -> Value {
    let res = match result {
        Err(WsError::Http(res)) => res,
        Err(e) => panic!("expected HTTP {status}, got {e}"),
        Ok(_) => panic!("upgraded past the cap"),
    };
    assert_eq!(res.status().as_u16(), status);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert_eq!(ct, Some("application/problem+json"));
    let body: Value =
        serde_json::from_slice(res.body().as_deref().unwrap_or_default()).expect("JSON body");
    assert_eq!(body["status"], status);
    body
}

async fn authenticate(ws: &mut Ws, token: &str) {
    ws.send(json!({"type": "auth", "token": token})).await;
}

#[tokio::test]
async fn sockets_per_user_are_capped() {
    let t = start(|ws| ws.max_sockets_per_user = 2).await;
    let alice = t.token("alice");
    let (first, _) = connect(&t.app, &alice).await;
    // Authenticated by first message: counted the same way.
    let mut second = try_connect(&t.app, "", None).await.expect("upgrade");
    authenticate(&mut second, &alice).await;
    second.expect("ready").await;

    let body = assert_refused(try_connect(&t.app, "", Some(&alice)).await, 429);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("WebSockets")),
        "{body}"
    );
    let mut third = try_connect(&t.app, "", None).await.expect("upgrade");
    authenticate(&mut third, &alice).await;
    assert_eq!(third.closed(&["ready"]).await.0, 4429);

    // Another user is counted apart, and the first two sockets still work.
    let (mut bobs, _) = connect(&t.app, &t.token("bob")).await;
    for ws in [&mut bobs, &mut second] {
        ws.send(json!({"type": "ping"})).await;
        ws.expect("pong").await;
    }

    // A closed socket gives its place back (once the server has seen the connection end).
    drop(first);
    let mut reopened = None;
    for _ in 0..100 {
        match try_connect(&t.app, "", Some(&alice)).await {
            Ok(ws) => {
                reopened = Some(ws);
                break;
            }
            Err(WsError::Http(res)) if res.status() == 429 => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let mut reopened = reopened.expect("the closed socket's place was never given back");
    reopened.expect("ready").await;
}

#[tokio::test]
async fn sockets_waiting_for_auth_are_capped() {
    let t = start(|ws| ws.max_unauthenticated = 1).await;
    let mut waiting = try_connect(&t.app, "", None).await.expect("upgrade");
    let body = assert_refused(try_connect(&t.app, "", None).await, 503);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("authenticate")),
        "{body}"
    );
    // A token in the header does not wait: not counted, not refused.
    let (mut with_header, _) = connect(&t.app, &t.token("bob")).await;
    with_header.send(json!({"type": "ping"})).await;
    with_header.expect("pong").await;
    // Once the waiting socket has authenticated, its place is free again.
    authenticate(&mut waiting, &t.token("alice")).await;
    waiting.expect("ready").await;
    let mut next = try_connect(&t.app, "", None).await.expect("upgrade");
    authenticate(&mut next, &t.token("carol")).await;
    next.expect("ready").await;
}
