//! Sockets closed from the server when their session ends: logout (4401), member removal and
//! disable (4403), within a second, also on another instance (PostgreSQL and Redis shared).

use crate::support::ws::{connect, subscriber, try_connect};
use crate::support::{TestApp, postgres_admin_url, redis_url};
use portcullis_dev_issuer::TokenSpec;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Error as WsError;

#[tokio::test]
async fn logout_closes_the_socket_with_4401_within_a_second() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let other = app.caller("alice");
    let (mut ws, _) = connect(&app, alice.token()).await;
    let (mut other_ws, _) = connect(&app, other.token()).await;
    alice.post("/v1/auth/logout").expect(204).await;
    let (code, took) = ws.closed(&[]).await;
    assert_eq!(code, 4401);
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
    // Another session of the same user stays open.
    other_ws.send(json!({"type": "ping"})).await;
    other_ws.expect("pong").await;
}

#[tokio::test]
async fn removing_the_member_closes_the_socket_with_4403() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let bob = app.caller("bob");
    let org = alice.create_org("Shared").await;
    let bob_id = bob.id().await;
    alice
        .post(&format!("/v1/orgs/{org}/members"))
        .json(json!({"user_id": bob_id, "role": "member"}))
        .expect(201)
        .await;
    let mut ws = subscriber(&app, bob.token(), &org).await;
    let start = Instant::now();
    alice
        .delete(&format!("/v1/orgs/{org}/members/{bob_id}"))
        .expect(204)
        .await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4403);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
}

#[tokio::test]
async fn disabling_the_user_closes_the_socket_with_4403() {
    let app = TestApp::sqlite().start().await;
    let carol = app.caller("carol");
    let admin = app.admin("root");
    let carol_id = carol.id().await;
    let (mut ws, _) = connect(&app, carol.token()).await;
    let start = Instant::now();
    admin
        .post(&format!("/v1/admin/users/{carol_id}/disable"))
        .expect(200)
        .await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4403);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
    // And a disabled user cannot open a new one.
    match try_connect(&app, "", Some(carol.token())).await {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401),
        Err(e) => panic!("expected HTTP 401, got {e}"),
        Ok(_) => panic!("a disabled user upgraded"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sockets_on_another_instance_close_on_logout_and_disable() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let c = TestApp::postgres(&pg)
        .with_redis(&redis)
        .start_cluster()
        .await;

    // Events travel too: a resource created on A reaches a subscriber on B.
    let alice = c.a.caller("alice");
    let org = alice.create_org("X").await;
    let mut ws = subscriber(&c.b, alice.token(), &org).await;
    let r = alice.create_resource(&org, "n").await;
    assert_eq!(ws.expect("event").await["resource_id"], r["id"]);

    // Logout on A closes the socket on B with 4401 within a second.
    let start = Instant::now();
    alice.post("/v1/auth/logout").expect(204).await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4401);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );

    // Disable on A closes the socket on B with 4403 within a second.
    let carol = c.b.caller("carol");
    let (mut ws, ready) = connect(&c.b, carol.token()).await;
    let carol_id = ready["user_id"].as_str().expect("id").to_owned();
    let admin =
        c.a.caller_with(TokenSpec::new("root").groups(["portcullis-admin"]));
    let start = Instant::now();
    admin
        .post(&format!("/v1/admin/users/{carol_id}/disable"))
        .expect(200)
        .await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4403);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}
