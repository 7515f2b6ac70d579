//! Opening a socket: the token in the `Authorization` header or in a first `auth` message, the
//! deadline for that message, and tokens in the query string refused before any upgrade.

use crate::support::TestApp;
use crate::support::ws::{connect, try_connect};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Error as WsError;

#[tokio::test]
async fn authenticates_by_header() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let id = alice.id().await;
    let (mut ws, ready) = connect(&app, alice.token()).await;
    assert_eq!(ready["user_id"], id.as_str());
    assert!(ready["expires_in"].as_i64().expect("expires_in") > 3000);
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
    // Authenticated already: a second auth is refused, the socket stays.
    ws.send(json!({"type": "auth", "token": alice.token()}))
        .await;
    assert_eq!(ws.expect("error").await["code"], "already_authenticated");
    ws.send(json!({"type": "nonsense"})).await;
    assert_eq!(ws.expect("error").await["code"], "bad_message");
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn authenticates_by_first_message() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let mut ws = try_connect(&app, "", None).await.expect("upgrade");
    ws.send(json!({"type": "auth", "token": alice.token()}))
        .await;
    let ready = ws.expect("ready").await;
    assert_eq!(ready["user_id"], alice.id().await.as_str());
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;

    // A bad token as the first message: 4401, nothing else.
    let mut ws = try_connect(&app, "", None).await.expect("upgrade");
    ws.send(json!({"type": "auth", "token": "not.a.token"}))
        .await;
    assert_eq!(ws.closed(&["ready"]).await.0, 4401);
    // Anything but auth first: 4401.
    let mut ws = try_connect(&app, "", None).await.expect("upgrade");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.closed(&["pong", "ready"]).await.0, 4401);
}

#[tokio::test]
async fn closes_with_4408_without_auth_within_5_seconds() {
    let app = TestApp::sqlite().start().await;
    let mut ws = try_connect(&app, "", None).await.expect("upgrade");
    let (code, took) = ws.closed(&[]).await;
    assert_eq!(code, 4408);
    assert!(
        took >= Duration::from_millis(4500) && took < Duration::from_secs(7),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn token_in_query_string_is_refused_before_upgrade() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let token = alice.token();
    for (query, header) in [
        (format!("?access_token={token}"), None),
        (format!("?token={token}"), Some(token)),
    ] {
        match try_connect(&app, &query, header).await {
            Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401),
            Err(e) => panic!("expected HTTP 401, got {e}"),
            Ok(_) => panic!("upgraded with a token in the query string"),
        }
    }
    // A bad header token is refused over HTTP too, before any upgrade.
    match try_connect(&app, "", Some("not.a.token")).await {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401),
        Err(e) => panic!("expected HTTP 401, got {e}"),
        Ok(_) => panic!("upgraded with a bad token"),
    }
}
