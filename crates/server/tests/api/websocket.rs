//! `GET /v1/ws` with a real client (tokio-tungstenite): authentication by header and by first
//! message, the 5 s authentication deadline, tokens in the query string refused before any
//! upgrade, refresh (same subject only), `token_expiring` and the close at `exp`, events for
//! subscribed orgs only, pushed closes on logout, member removal and disable (also across two
//! instances on PostgreSQL and Redis), rate limiting, an export stopped by a revocation, and
//! 1001 on shutdown.

use crate::helpers::{TestApp, client, cluster, postgres_admin_url, redis_prefix, redis_url};
use crate::tenant::{Tenant, start};
use futures_util::{SinkExt, StreamExt};
use portcullis_dev_issuer::TokenSpec;
use reqwest::Method;
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

fn ws_url(app: &TestApp, path_and_query: &str) -> String {
    app.url(path_and_query).replacen("http://", "ws://", 1)
}

/// Opens `/v1/ws{query}`, with the token in the `Authorization` header when given.
pub async fn try_connect(app: &TestApp, query: &str, token: Option<&str>) -> Result<Ws, WsError> {
    let mut req = ws_url(app, &format!("/v1/ws{query}"))
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

/// Connects with the token in the header and waits for `ready`.
pub async fn connect(app: &TestApp, token: &str) -> (Ws, Value) {
    let mut ws = try_connect(app, "", Some(token)).await.expect("upgrade");
    let ready = ws.expect("ready").await;
    (ws, ready)
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

async fn create_org(t: &Tenant, token: &str, name: &str) -> String {
    t.ok(
        token,
        Method::POST,
        "/v1/orgs",
        Some(json!({ "name": name })),
        201,
    )
    .await["id"]
        .as_str()
        .expect("org id")
        .to_owned()
}

async fn create_resource(t: &Tenant, token: &str, org: &str, name: &str) -> Value {
    t.ok(
        token,
        Method::POST,
        &format!("/v1/orgs/{org}/resources"),
        Some(json!({ "kind": "doc", "name": name })),
        201,
    )
    .await
}

async fn user_id(t: &Tenant, token: &str) -> String {
    t.ok(token, Method::GET, "/v1/me", None, 200).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn authenticates_by_header() {
    let t = start().await;
    let token = t.token("alice");
    let id = user_id(&t, &token).await;
    let (mut ws, ready) = connect(&t.app, &token).await;
    assert_eq!(ready["user_id"], id.as_str());
    assert!(ready["expires_in"].as_i64().expect("expires_in") > 3000);
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
    // Authenticated already: a second auth is refused, the socket stays.
    ws.send(json!({"type": "auth", "token": token})).await;
    assert_eq!(ws.expect("error").await["code"], "already_authenticated");
    ws.send(json!({"type": "nonsense"})).await;
    assert_eq!(ws.expect("error").await["code"], "bad_message");
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn authenticates_by_first_message() {
    let t = start().await;
    let token = t.token("alice");
    let mut ws = try_connect(&t.app, "", None).await.expect("upgrade");
    ws.send(json!({"type": "auth", "token": token})).await;
    let ready = ws.expect("ready").await;
    assert_eq!(ready["user_id"], user_id(&t, &token).await.as_str());
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;

    // A bad token as the first message: 4401, nothing else.
    let mut ws = try_connect(&t.app, "", None).await.expect("upgrade");
    ws.send(json!({"type": "auth", "token": "not.a.token"}))
        .await;
    assert_eq!(ws.closed(&["ready"]).await.0, 4401);
    // Anything but auth first: 4401.
    let mut ws = try_connect(&t.app, "", None).await.expect("upgrade");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.closed(&["pong", "ready"]).await.0, 4401);
}

#[tokio::test]
async fn closes_with_4408_without_auth_within_5_seconds() {
    let t = start().await;
    let mut ws = try_connect(&t.app, "", None).await.expect("upgrade");
    let (code, took) = ws.closed(&[]).await;
    assert_eq!(code, 4408);
    assert!(
        took >= Duration::from_millis(4500) && took < Duration::from_secs(7),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn token_in_query_string_is_refused_before_upgrade() {
    let t = start().await;
    let token = t.token("alice");
    for (query, header) in [
        (format!("?access_token={token}"), None),
        (format!("?token={token}"), Some(token.as_str())),
    ] {
        match try_connect(&t.app, &query, header).await {
            Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401),
            Err(e) => panic!("expected HTTP 401, got {e}"),
            Ok(_) => panic!("upgraded with a token in the query string"),
        }
    }
    // A bad header token is refused over HTTP too, before any upgrade.
    match try_connect(&t.app, "", Some("not.a.token")).await {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401),
        Err(e) => panic!("expected HTTP 401, got {e}"),
        Ok(_) => panic!("upgraded with a bad token"),
    }
}

#[tokio::test]
async fn refresh_with_another_subject_is_refused() {
    let t = start().await;
    let alice = t.token("alice");
    let bob = t.token("bob");
    let alices = create_org(&t, &alice, "Alice's").await;
    let bobs = create_org(&t, &bob, "Bob's").await;
    let (mut ws, ready) = connect(&t.app, &alice).await;
    ws.send(json!({"type": "refresh", "token": bob})).await;
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

fn short_token(t: &Tenant, sub: &str, ttl_secs: u64) -> String {
    t.issuer.mint_access(
        &TokenSpec::new(sub)
            .username(sub)
            .ttl(Duration::from_secs(ttl_secs)),
    )
}

#[tokio::test]
async fn warns_then_closes_with_4401_at_expiry() {
    let t = start().await;
    let token = short_token(&t, "alice", 4);
    let start = Instant::now();
    let (mut ws, ready) = connect(&t.app, &token).await;
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
    let t = start().await;
    let token = short_token(&t, "alice", 3);
    let start = Instant::now();
    let (mut ws, _) = connect(&t.app, &token).await;
    ws.expect("token_expiring").await;
    ws.send(json!({"type": "refresh", "token": t.token("alice")}))
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
async fn events_arrive_for_subscribed_orgs_only() {
    let t = start().await;
    let alice = t.token("alice");
    let bob = t.token("bob");
    let a = create_org(&t, &alice, "A").await;
    let b = create_org(&t, &alice, "B").await;
    let bobs = create_org(&t, &bob, "Bob's").await;
    let (mut ws, _) = connect(&t.app, &alice).await;
    // Someone else's org: refused as HTTP would (404 there, not_found here).
    ws.send(json!({"type": "subscribe", "org_id": bobs})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
    ws.send(json!({"type": "subscribe", "org_id": a})).await;
    assert_eq!(ws.expect("subscribed").await["org_id"], a.as_str());

    create_resource(&t, &alice, &b, "in-b").await;
    create_resource(&t, &bob, &bobs, "in-bobs").await;
    let r = create_resource(&t, &alice, &a, "in-a").await;
    let id = r["id"].as_str().expect("id");
    // The events of B and Bob's org were published first: the next message is A's.
    let e = ws.expect("event").await;
    assert_eq!(e["org_id"], a.as_str());
    assert_eq!(e["resource_id"], id);
    assert_eq!(e["action"], "created");
    assert_eq!(e["version"], 1);
    t.ok(
        &alice,
        Method::DELETE,
        &format!("/v1/orgs/{a}/resources/{id}"),
        None,
        204,
    )
    .await;
    let e = ws.expect("event").await;
    assert_eq!(
        (e["action"].as_str(), e["version"].as_i64()),
        (Some("deleted"), Some(2))
    );

    ws.send(json!({"type": "unsubscribe", "org_id": a})).await;
    ws.expect("unsubscribed").await;
    create_resource(&t, &alice, &a, "after").await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn logout_closes_the_socket_with_4401_within_a_second() {
    let t = start().await;
    let token = t.token("alice");
    let other = t.token("alice");
    let (mut ws, _) = connect(&t.app, &token).await;
    let (mut other_ws, _) = connect(&t.app, &other).await;
    t.ok(&token, Method::POST, "/v1/auth/logout", None, 204)
        .await;
    let (code, took) = ws.closed(&[]).await;
    assert_eq!(code, 4401);
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
    // Another session of the same user stays open.
    other_ws.send(json!({"type": "ping"})).await;
    other_ws.expect("pong").await;
}

#[tokio::test]
async fn removing_the_member_closes_the_socket_with_4403() {
    let t = start().await;
    let alice = t.token("alice");
    let bob = t.token("bob");
    let org = create_org(&t, &alice, "Shared").await;
    let bob_id = user_id(&t, &bob).await;
    t.ok(
        &alice,
        Method::POST,
        &format!("/v1/orgs/{org}/members"),
        Some(json!({"user_id": bob_id, "role": "member"})),
        201,
    )
    .await;
    let (mut ws, _) = connect(&t.app, &bob).await;
    ws.send(json!({"type": "subscribe", "org_id": org})).await;
    ws.expect("subscribed").await;
    let start = Instant::now();
    t.ok(
        &alice,
        Method::DELETE,
        &format!("/v1/orgs/{org}/members/{bob_id}"),
        None,
        204,
    )
    .await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4403);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
}

#[tokio::test]
async fn disabling_the_user_closes_the_socket_with_4403() {
    let t = start().await;
    let carol = t.token("carol");
    let admin = t.admin_token("root");
    let carol_id = user_id(&t, &carol).await;
    let (mut ws, _) = connect(&t.app, &carol).await;
    let start = Instant::now();
    t.ok(
        &admin,
        Method::POST,
        &format!("/v1/admin/users/{carol_id}/disable"),
        None,
        200,
    )
    .await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4403);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
    // And a disabled user cannot open a new one.
    match try_connect(&t.app, "", Some(&carol)).await {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401),
        Err(e) => panic!("expected HTTP 401, got {e}"),
        Ok(_) => panic!("a disabled user upgraded"),
    }
}

#[tokio::test]
async fn too_many_messages_close_with_4429() {
    let t = start().await;
    let (mut ws, _) = connect(&t.app, &t.token("alice")).await;
    for _ in 0..40 {
        ws.send(json!({"type": "ping"})).await;
    }
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4429);
}

async fn org_with_resources(t: &Tenant, token: &str, n: usize) -> String {
    let org = create_org(t, token, "Exported").await;
    for i in 0..n {
        create_resource(t, token, &org, &format!("r{i}")).await;
    }
    org
}

/// An export page stops at `http.page_max_bytes` like an HTTP list page, and the export goes on
/// from where it stopped: every resource once, in pages of what fits.
#[tokio::test]
async fn export_pages_stop_at_the_byte_budget() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config =
        crate::helpers::test_config(&format!("sqlite://{}/p.db", dir.path().display()));
    config.data_dir = dir.path().to_owned();
    config.http.page_max_bytes = 10 * 1024;
    let t = crate::tenant::start_with(config, dir).await;
    let alice = t.token("alice");
    let org = create_org(&t, &alice, "Big").await;
    let blob = "x".repeat(4000);
    for i in 0..6 {
        t.ok(
            &alice,
            Method::POST,
            &format!("/v1/orgs/{org}/resources"),
            Some(json!({ "kind": "doc", "name": format!("r{i}"), "data": { "blob": blob } })),
            201,
        )
        .await;
    }
    let (mut ws, _) = connect(&t.app, &alice).await;
    ws.send(json!({"type": "export", "org_id": org, "page_size": 100}))
        .await;
    ws.expect("export_started").await;
    let mut pages = Vec::new();
    loop {
        let v = match ws.next().await {
            Frame::Json(v) => v,
            Frame::Closed(code) => panic!("closed with {code}"),
        };
        match v["type"].as_str() {
            Some("export_items") => pages.push(v["items"].as_array().expect("items").len()),
            Some("export_progress") => {}
            Some("export_done") => {
                assert_eq!(v["exported"], 6);
                break;
            }
            _ => panic!("unexpected {v}"),
        }
    }
    assert_eq!(pages.iter().sum::<usize>(), 6, "{pages:?}");
    assert!(
        pages.iter().all(|n| *n <= 2),
        "two 4 KB resources fit in 10 KiB, three do not: {pages:?}"
    );
}

#[tokio::test]
async fn export_streams_every_resource_with_progress() {
    let t = start().await;
    let alice = t.token("alice");
    let org = org_with_resources(&t, &alice, 7).await;
    let (mut ws, _) = connect(&t.app, &alice).await;
    ws.send(json!({"type": "export", "org_id": org, "page_size": 3}))
        .await;
    ws.expect("export_started").await;
    let mut names = Vec::new();
    let mut progress = Vec::new();
    loop {
        let v = match ws.next().await {
            Frame::Json(v) => v,
            Frame::Closed(code) => panic!("closed with {code}"),
        };
        match v["type"].as_str() {
            Some("export_items") => names.extend(
                v["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|r| r["name"].as_str().expect("name").to_owned()),
            ),
            Some("export_progress") => progress.push(v["exported"].as_u64().expect("n")),
            Some("export_done") => {
                assert_eq!(v["exported"], 7);
                break;
            }
            _ => panic!("unexpected {v}"),
        }
    }
    assert_eq!(names.len(), 7);
    assert_eq!(progress, [3, 6, 7]);
    // Another org's export is refused as not found.
    let bobs = create_org(&t, &t.token("bob"), "Bob's").await;
    ws.send(json!({"type": "export", "org_id": bobs})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
}

#[tokio::test]
async fn export_stops_when_its_token_is_revoked() {
    let t = start().await;
    let alice = t.token("alice");
    let org = org_with_resources(&t, &alice, 60).await;
    let (mut ws, _) = connect(&t.app, &alice).await;
    // One resource a page: the pacing between pages makes this take well over a second.
    ws.send(json!({"type": "export", "org_id": org, "page_size": 1}))
        .await;
    ws.expect("export_started").await;
    ws.expect("export_items").await;
    let first = ws.expect("export_progress").await;
    assert_eq!(first["exported"], 1);
    t.ok(&alice, Method::POST, "/v1/auth/logout", None, 204)
        .await;
    let start = Instant::now();
    let mut last = 1;
    let code = loop {
        match ws.next().await {
            Frame::Closed(code) => break code,
            Frame::Json(v) => match v["type"].as_str() {
                Some("export_progress") => last = v["exported"].as_u64().expect("n"),
                Some("export_items") => {}
                Some("error") => assert_eq!(v["code"], "export_stopped"),
                _ => panic!("unexpected {v}"),
            },
        }
    };
    assert_eq!(code, 4401);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        last < 60,
        "the export ran to its end ({last}) despite the logout"
    );
}

// Two instances on one PostgreSQL and one Redis.

async fn post(app: &TestApp, path: &str, token: &str, body: Option<Value>) -> Value {
    let mut req = client().post(app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sockets_on_another_instance_close_on_logout_and_disable() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let db = portcullis_store_postgres::testdb::TestDatabase::create(&pg)
        .await
        .expect("database");
    let c = cluster(db.url(), Some((&redis, &redis_prefix()))).await;
    let token = |sub: &str| c.issuer.mint_access(&TokenSpec::new(sub).username(sub));

    // Events travel too: a resource created on A reaches a subscriber on B.
    let alice = token("alice");
    let org = post(&c.a, "/v1/orgs", &alice, Some(json!({"name": "X"}))).await["id"]
        .as_str()
        .expect("org")
        .to_owned();
    let (mut ws, _) = connect(&c.b, &alice).await;
    ws.send(json!({"type": "subscribe", "org_id": org})).await;
    ws.expect("subscribed").await;
    let r = post(
        &c.a,
        &format!("/v1/orgs/{org}/resources"),
        &alice,
        Some(json!({"kind": "doc", "name": "n"})),
    )
    .await;
    assert_eq!(ws.expect("event").await["resource_id"], r["id"]);

    // Logout on A closes the socket on B with 4401 within a second.
    let start = Instant::now();
    post(&c.a, "/v1/auth/logout", &alice, None).await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4401);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );

    // Disable on A closes the socket on B with 4403 within a second.
    let carol = token("carol");
    let (mut ws, ready) = connect(&c.b, &carol).await;
    let carol_id = ready["user_id"].as_str().expect("id").to_owned();
    let admin = c
        .issuer
        .mint_access(&TokenSpec::new("root").groups(["portcullis-admin"]));
    let start = Instant::now();
    post(
        &c.a,
        &format!("/v1/admin/users/{carol_id}/disable"),
        &admin,
        None,
    )
    .await;
    let (code, _) = ws.closed(&[]).await;
    assert_eq!(code, 4403);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn shutdown_closes_open_sockets_with_1001_and_waits_for_them() {
    let t = start().await;
    let token = t.token("alice");
    let (mut authenticated, _) = connect(&t.app, &token).await;
    // Still in the handshake: no `auth` message yet.
    let mut waiting = try_connect(&t.app, "", None).await.expect("upgrade");
    let Tenant { app, .. } = t;
    let stop = tokio::spawn(app.app.stop());
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
