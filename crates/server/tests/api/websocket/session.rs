//! An open socket over time: refresh (same subject only), the warning before `exp` and the
//! close at it, the message rate limit, and the close on shutdown.

use crate::support::TestApp;
use crate::support::ws::{connect, try_connect};
use portcullis_dev_issuer::TokenSpec;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn refresh_with_another_subject_is_refused() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let bob = app.caller("bob");
    let alices = alice.create_org("Alice's").await;
    let bobs = bob.create_org("Bob's").await;
    let (mut ws, ready) = connect(&app, alice.token()).await;
    ws.send(json!({"type": "refresh", "token": bob.token()}))
        .await;
    assert_eq!(ws.expect("error").await["code"], "refresh_refused");
    // Still Alice: Bob's org is out of reach, Alice's is not.
    ws.send(json!({"type": "subscribe", "org_id": bobs})).await;
    let err = ws.expect("error").await;
    assert_eq!(
        (err["code"].as_str(), err["org_id"].as_str()),
        (Some("not_found"), Some(bobs.as_str()))
    );
    ws.send(json!({"type": "subscribe", "org_id": alices}))
        .await;
    ws.expect("subscribed").await;
    // A garbage refresh is refused the same way, and the socket stays Alice's.
    ws.send(json!({"type": "refresh", "token": "x.y.z"})).await;
    assert_eq!(ws.expect("error").await["code"], "refresh_refused");
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
    assert!(ready["user_id"].is_string());
}

fn short_token(app: &TestApp, sub: &str, ttl_secs: u64) -> String {
    app.issuer().mint_access(
        &TokenSpec::new(sub)
            .username(sub)
            .ttl(Duration::from_secs(ttl_secs)),
    )
}

#[tokio::test]
async fn warns_then_closes_with_4401_at_expiry() {
    let app = TestApp::sqlite().start().await;
    let token = short_token(&app, "alice", 4);
    let start = Instant::now();
    let (mut ws, ready) = connect(&app, &token).await;
    assert!(ready["expires_in"].as_i64().expect("expires_in") <= 4);
    let warning = ws.expect("token_expiring").await;
    let expires_in = warning["expires_in"].as_i64().expect("expires_in");
    assert!((0..=3).contains(&expires_in), "{warning}");
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4401);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn refresh_extends_the_session() {
    let app = TestApp::sqlite().start().await;
    let token = short_token(&app, "alice", 3);
    let start = Instant::now();
    let (mut ws, _) = connect(&app, &token).await;
    ws.expect("token_expiring").await;
    ws.send(json!({"type": "refresh", "token": app.caller("alice").token()}))
        .await;
    let refreshed = ws.expect("refreshed").await;
    assert!(refreshed["expires_in"].as_i64().expect("expires_in") > 3000);
    // Well past the first token's exp: still open, and no second warning.
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(start.elapsed())).await;
    assert!(
        ws.next_within(Duration::from_millis(1500)).await.is_none(),
        "nothing more is sent past the old exp"
    );
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn too_many_messages_close_with_4429() {
    let app = TestApp::sqlite().start().await;
    let (mut ws, _) = connect(&app, app.caller("alice").token()).await;
    for _ in 0..40 {
        ws.send(json!({"type": "ping"})).await;
    }
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4429);
}

#[tokio::test]
async fn shutdown_closes_open_sockets_with_1001_and_waits_for_them() {
    let mut app = TestApp::sqlite().start().await;
    let (mut authenticated, _) = connect(&app, app.caller("alice").token()).await;
    // Still in the handshake: no `auth` message yet.
    let mut waiting = try_connect(&app, "", None).await.expect("upgrade");
    let stop = tokio::spawn(app.stopping());
    // The server has sent its close frames and waits (up to 2 s) for the replies, which these
    // clients only send when they read: the stop must still be waiting for the sockets.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !stop.is_finished(),
        "the server stopped without waiting for its WebSockets"
    );
    let (code, took) = authenticated.closed(&[]).await;
    assert_eq!(code, 1001);
    assert!(took < Duration::from_secs(1), "close frame after {took:?}");
    let (code, _) = waiting.closed(&[]).await;
    assert_eq!(code, 1001);
    tokio::time::timeout(Duration::from_secs(5), stop)
        .await
        .expect("stops once the sockets have closed")
        .expect("task")
        .expect("clean stop");
}
