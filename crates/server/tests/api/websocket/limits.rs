//! The caps on WebSockets (`[ws]`): open sockets per user (429 before the upgrade with a
//! header token, 4429 after a first-message `auth`), sockets waiting for their `auth` (503
//! before the upgrade), and exports per user across their sockets.

use super::org_with_resources;
use crate::support::TestApp;
use crate::support::ws::{Frame, Ws, connect, try_connect};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Error as WsError;

async fn start(
    configure: impl FnOnce(&mut portcullis::config::WsConfig) + Send + 'static,
) -> TestApp {
    TestApp::sqlite()
        .with_config(|c| configure(&mut c.ws))
        .start()
        .await
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
    let app = start(|ws| ws.max_sockets_per_user = 2).await;
    let alice = app.caller("alice");
    let alice = alice.token();
    let (first, _) = connect(&app, alice).await;
    // Authenticated by first message: counted the same way.
    let mut second = try_connect(&app, "", None).await.expect("upgrade");
    authenticate(&mut second, alice).await;
    second.expect("ready").await;

    let body = assert_refused(try_connect(&app, "", Some(alice)).await, 429);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("WebSockets")),
        "{body}"
    );
    let mut third = try_connect(&app, "", None).await.expect("upgrade");
    authenticate(&mut third, alice).await;
    assert_eq!(third.closed(&["ready"]).await.0, 4429);

    // Another user is counted apart, and the first two sockets still work.
    let (mut bobs, _) = connect(&app, app.caller("bob").token()).await;
    for ws in [&mut bobs, &mut second] {
        ws.send(json!({"type": "ping"})).await;
        ws.expect("pong").await;
    }

    // A closed socket gives its place back (once the server has seen the connection end).
    drop(first);
    let mut reopened = None;
    for _ in 0..100 {
        match try_connect(&app, "", Some(alice)).await {
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
    let app = start(|ws| ws.max_unauthenticated = 1).await;
    let mut waiting = try_connect(&app, "", None).await.expect("upgrade");
    let body = assert_refused(try_connect(&app, "", None).await, 503);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("authenticate")),
        "{body}"
    );
    // A token in the header does not wait: not counted, not refused.
    let (mut with_header, _) = connect(&app, app.caller("bob").token()).await;
    with_header.send(json!({"type": "ping"})).await;
    with_header.expect("pong").await;
    // Once the waiting socket has authenticated, its place is free again.
    authenticate(&mut waiting, app.caller("alice").token()).await;
    waiting.expect("ready").await;
    let mut next = try_connect(&app, "", None).await.expect("upgrade");
    authenticate(&mut next, app.caller("carol").token()).await;
    next.expect("ready").await;
}

/// Reads the socket until `export_done`, returning how many were exported.
async fn read_to_done(ws: &mut Ws) -> u64 {
    loop {
        match ws.next().await {
            Frame::Json(v) if v["type"] == "export_done" => {
                return v["exported"].as_u64().expect("exported");
            }
            Frame::Json(v) => assert!(
                ["export_items", "export_progress"].contains(&v["type"].as_str().unwrap_or("")),
                "unexpected {v}"
            ),
            Frame::Closed(code) => panic!("closed with {code}"),
        }
    }
}

#[tokio::test]
async fn exports_per_user_are_capped_across_their_sockets() {
    let app = start(|ws| ws.max_exports_per_user = 2).await;
    let alice = app.caller("alice");
    // One resource a page, paced between pages: each export runs well over a second.
    let org = org_with_resources(&alice, 60).await;
    let export = json!({"type": "export", "org_id": org, "page_size": 1});
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(connect(&app, alice.token()).await.0);
    }
    for ws in &mut sockets[..2] {
        ws.send(export.clone()).await;
        ws.expect("export_started").await;
    }
    let third = &mut sockets[2];
    third.send(export.clone()).await;
    let err = third.expect("error").await;
    assert_eq!(err["code"], "too_many_exports");
    assert_eq!(err["org_id"], org.as_str());
    // Refused, not closed.
    third.send(json!({"type": "ping"})).await;
    third.expect("pong").await;
    // Another user's export is counted apart.
    let bob = app.caller("bob");
    let bobs = bob.create_org("Bob's").await;
    let (mut bob_ws, _) = connect(&app, bob.token()).await;
    bob_ws.send(json!({"type": "export", "org_id": bobs})).await;
    bob_ws.expect("export_started").await;
    // A finished export frees its place by the time its `export_done` arrives.
    assert_eq!(read_to_done(&mut sockets[0]).await, 60);
    let third = &mut sockets[2];
    third.send(export).await;
    third.expect("export_started").await;
}
