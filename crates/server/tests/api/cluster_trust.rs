//! What the instances of a cluster trust each other with, attacked from outside: a key-set copy
//! or a pub/sub message written straight into Redis counts only with the cluster key's tag
//! (once, and with a known resource action), and every refusal is counted. Also: revocations
//! last as long as the tokens they name are accepted, a logout-all cutoff allows for an issuer
//! clock running ahead, and a revoked token writes nothing and spends no rate limit.

use crate::helpers::{
    CLUSTER_ISSUER, CLUSTER_SECRET, TestApp, client, cluster, me, postgres_admin_url, redis_prefix,
    redis_url, spawn_with, status, test_config, wait_ready,
};
use crate::tenant;
use futures_util::{SinkExt, StreamExt};
use portcullis::cluster::key::{ClusterKey, Purpose};
use portcullis_dev_issuer::{ControlledIssuer, DevIssuer, TokenSpec};
use portcullis_store::{ConnectOptions, RevocationKind, RevocationStore, UserStore};
use portcullis_store_postgres::testdb::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

async fn post_json(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let res = client()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 201, "{path}");
    res.json().await.expect("json")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `portcullis_cluster_rejected_total{kind}` as `app` renders it (0 before the first one).
async fn rejected(app: &TestApp, kind: &str) -> u64 {
    let text = client()
        .get(app.app.metrics_url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let series = format!("portcullis_cluster_rejected_total{{kind=\"{kind}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .map_or(0, |v| v.trim().parse::<f64>().expect("a number") as u64)
}

/// Runs `redis-cli -u {url} {args}`, as an operator (or an intruder) with access to Redis
/// would, and returns its output.
fn redis_cli(url: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `redis-cli SUBSCRIBE` running alongside the cluster: everything published on a channel,
/// line by line, as anyone with access to Redis can capture it.
struct Capture {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Capture {
    async fn start(url: &str, channel: &str) -> Self {
        let mut child = Command::new("redis-cli")
            .arg("-u")
            .arg(url)
            .args(["SUBSCRIBE", channel])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut capture = Self { child, lines };
        // The confirmation is "subscribe", the channel, then the subscription count.
        capture.line_where(|l| l == channel).await;
        capture.line_where(|l| l == "1").await;
        capture
    }

    async fn line_where(&mut self, want: impl Fn(&str) -> bool) -> String {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), self.lines.recv())
                .await
                .expect("redis-cli printed the line within 10 s")
                .expect("redis-cli is still running");
            if want(&line) {
                return line;
            }
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket on `app`, authenticated as `token` and subscribed to `org`.
async fn subscriber(app: &TestApp, token: &str, org: &str) -> Socket {
    let mut req = app
        .url("/v1/ws")
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    assert_eq!(next_message(&mut ws).await["type"], "ready");
    ws.send(Message::Text(
        json!({"type": "subscribe", "org_id": org})
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    assert_eq!(next_message(&mut ws).await["type"], "subscribed");
    ws
}

/// The next JSON message on the socket, within 10 s.
async fn next_message(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s");
        match msg {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// An envelope as an instance holding `secret` would publish it on `channel`. The layout of the
/// tagged bytes is the server's wire format: a test that gets it wrong sees its control
/// message refused.
fn sealed(secret: &[u8], channel: &str, payload: &Value) -> String {
    let origin = uuid::Uuid::now_v7();
    let counter: u64 = 1;
    let sent_at_ms = now_ms();
    let payload = payload.to_string();
    let mac = ClusterKey::new(secret).sign(
        Purpose::Event,
        &[
            channel.as_bytes(),
            origin.as_bytes(),
            &counter.to_be_bytes(),
            &sent_at_ms.to_be_bytes(),
            payload.as_bytes(),
        ],
    );
    json!({
        "origin": origin,
        "counter": counter,
        "sent_at_ms": sent_at_ms,
        "payload": payload,
        "mac": mac,
    })
    .to_string()
}

fn resource_changed(org: &str, resource: &str, action: &str) -> Value {
    json!({
        "type": "resource_changed",
        "org_id": org,
        "resource_id": resource,
        "action": action,
        "version": 1,
    })
}

const OTHER_SECRET: &[u8] = b"a secret of some other deployment, long enough";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_key_set_copies_in_redis_are_refused_and_counted() {
    let Some(redis) = redis_url() else {
        return;
    };
    let idp = ControlledIssuer::start().await.expect("issuer");
    let dir = tempfile::tempdir().expect("dir");
    let prefix = redis_prefix();
    let config =
        crate::helpers::issuer_and_redis_config(dir.path(), idp.issuer_url(), &redis, &prefix);
    let a = spawn_with(&config).await;
    wait_ready(&a).await;
    let b = spawn_with(&config).await;
    wait_ready(&b).await;
    let started = tokio::time::Instant::now();

    // A key the issuer never published, under the issuer's name, next to its real keys.
    let attacker = DevIssuer::ephemeral(idp.issuer_url());
    let forged_token = attacker.mint_access(&TokenSpec::new("mallory"));
    let real_token = idp.issuer.mint_access(&TokenSpec::new("alice"));
    let mut keys = idp.issuer.jwks()["keys"].as_array().expect("keys").clone();
    keys.extend(attacker.jwks()["keys"].as_array().expect("keys").clone());
    let document = json!({ "keys": keys }).to_string();
    let copy_key = format!("{prefix}:jwks:{}", idp.issuer_url());
    let far_future = now_ms() + 10 * 365 * 24 * 3600 * 1000;

    // Each instance fetched at start; an unknown kid makes it look again only after the 10 s
    // refetch cooldown, and that look is what must not trust Redis.
    tokio::time::sleep_until(started + Duration::from_secs(11)).await;

    let untagged = json!({ "fetched_at_ms": far_future, "document": document }).to_string();
    let before = rejected(&a, "jwks_malformed").await;
    redis_cli(&redis, &["SET", &copy_key, &untagged, "PX", "600000"]);
    assert_eq!(
        me(&a, &forged_token).await,
        401,
        "a key found only in an untagged copy"
    );
    assert!(rejected(&a, "jwks_malformed").await > before, "counted");

    // Dated now, so that only the tag can tell it from a genuine copy.
    let fetched_at_ms = now_ms();
    let mac = ClusterKey::new(OTHER_SECRET).sign(
        Purpose::KeySet,
        &[
            idp.issuer_url().as_bytes(),
            &fetched_at_ms.to_be_bytes(),
            document.as_bytes(),
        ],
    );
    let wrong_tag =
        json!({ "fetched_at_ms": fetched_at_ms, "document": document, "mac": mac }).to_string();
    let before = rejected(&b, "jwks_bad_mac").await;
    redis_cli(&redis, &["SET", &copy_key, &wrong_tag, "PX", "600000"]);
    assert_eq!(
        me(&b, &forged_token).await,
        401,
        "a key found only in a copy tagged with another secret"
    );
    assert!(rejected(&b, "jwks_bad_mac").await > before, "counted");

    for app in [&a, &b] {
        assert_eq!(me(app, &forged_token).await, 401);
        assert_eq!(
            me(app, &real_token).await,
            200,
            "the issuer's keys still work"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_and_replayed_events_are_dropped_and_counted() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let db = TestDatabase::create(&pg).await.expect("database");
    let prefix = redis_prefix();
    let c = cluster(db.url(), Some((&redis, &prefix))).await;
    let channel = format!("{prefix}:events");
    let alice = c
        .issuer
        .mint_access(&TokenSpec::new("alice").username("alice"));
    let bob_jti = uuid::Uuid::now_v7().to_string();
    let bob = c
        .issuer
        .mint_access(&TokenSpec::new("bob").username("bob").jti(&bob_jti));
    assert_eq!(me(&c.a, &bob).await, 200);
    assert_eq!(me(&c.b, &bob).await, 200);
    let org = crate::helpers::create_org(&client(), &c.a.url(""), &alice, "X").await;
    let mut ws = subscriber(&c.b, &alice, &org).await;
    let mut capture = Capture::start(&redis, &channel).await;
    let malformed = rejected(&c.a, "event_malformed").await;
    let bad_mac = rejected(&c.a, "event_bad_mac").await;
    let replayed = rejected(&c.a, "event_replayed").await;

    // A revocation in the untagged shape instances once accepted: the token must keep working.
    let revocation = json!({
        "origin": uuid::Uuid::now_v7(),
        "event": {
            "type": "token_revoked",
            "kind": "jti",
            "value": bob_jti,
            "expires_at": "2999-01-01T00:00:00Z",
        },
    });
    redis_cli(&redis, &["PUBLISH", &channel, &revocation.to_string()]);
    // Resource events with an action outside the known set, untagged and tagged; one tagged
    // with another secret; then a correctly tagged one, the control, which is delivered.
    let forged_resource = uuid::Uuid::now_v7().to_string();
    let untagged_script = json!({
        "origin": uuid::Uuid::now_v7(),
        "event": resource_changed(&org, &forged_resource, "<script>"),
    });
    redis_cli(&redis, &["PUBLISH", &channel, &untagged_script.to_string()]);
    let tagged_script = sealed(
        CLUSTER_SECRET.as_bytes(),
        &channel,
        &resource_changed(&org, &forged_resource, "<script>"),
    );
    redis_cli(&redis, &["PUBLISH", &channel, &tagged_script]);
    let other_key = sealed(
        OTHER_SECRET,
        &channel,
        &resource_changed(&org, &forged_resource, "created"),
    );
    redis_cli(&redis, &["PUBLISH", &channel, &other_key]);
    let control = uuid::Uuid::now_v7().to_string();
    let tagged = sealed(
        CLUSTER_SECRET.as_bytes(),
        &channel,
        &resource_changed(&org, &control, "updated"),
    );
    redis_cli(&redis, &["PUBLISH", &channel, &tagged]);
    // One subscription delivers in publish order: whatever got through would come first.
    let e = next_message(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["resource_id"].as_str()),
        (Some("event"), Some(control.as_str())),
        "only the control reaches the socket: {e}"
    );
    assert_eq!(
        me(&c.b, &bob).await,
        200,
        "the forged revocation changed nothing"
    );
    assert_eq!(me(&c.a, &bob).await, 200);
    assert!(
        rejected(&c.a, "event_malformed").await >= malformed + 3,
        "untagged revocation, untagged and tagged unknown action"
    );
    assert!(rejected(&c.a, "event_bad_mac").await > bad_mac);

    // A genuine envelope, captured as it went by, published again.
    let first = post_json(
        &c.a,
        &format!("/v1/orgs/{org}/resources"),
        &alice,
        json!({"kind": "doc", "name": "first"}),
    )
    .await;
    let first_id = first["id"].as_str().expect("id").to_owned();
    assert_eq!(
        next_message(&mut ws).await["resource_id"],
        first_id.as_str()
    );
    let genuine = capture
        .line_where(|l| l.starts_with('{') && l.contains(&first_id))
        .await;
    redis_cli(&redis, &["PUBLISH", &channel, &genuine]);
    let second = post_json(
        &c.a,
        &format!("/v1/orgs/{org}/resources"),
        &alice,
        json!({"kind": "doc", "name": "second"}),
    )
    .await;
    let e = next_message(&mut ws).await;
    assert_eq!(
        e["resource_id"], second["id"],
        "the replay was not delivered again: {e}"
    );
    assert!(rejected(&c.a, "event_replayed").await > replayed);
}

#[tokio::test]
async fn a_jti_only_token_expired_within_the_leeway_stays_refused_after_logout() {
    let t = tenant::start().await;
    let now = unix_now();
    // Expired 5 s ago: the verifier's 30 s leeway still accepts it.
    let spec = TokenSpec::new("frank")
        .username("frank")
        .omit("origin_jti")
        .issued_at(now - 65)
        .ttl(Duration::from_secs(60));
    let token = t.issuer.mint_access(&spec);
    assert_eq!(me(&t.app, &token).await, 200);
    assert_eq!(
        status(&t.app, Method::POST, "/v1/auth/logout", &token).await,
        204
    );
    assert_eq!(me(&t.app, &token).await, 401);
}

#[tokio::test]
async fn logout_all_covers_tokens_from_an_issuer_clock_running_ahead() {
    let t = tenant::start().await;
    // The issuer's clock runs 10 s ahead of ours (within the 30 s leeway): iat and auth_time
    // of everything it mints are 10 s in our future.
    let ahead = |sub: &str| TokenSpec::new(sub).username(sub).issued_at(unix_now() + 10);
    let spec = ahead("hank");
    let used = t.issuer.mint_access(&spec);
    let other = t.issuer.mint_access(&spec);
    assert_eq!(me(&t.app, &used).await, 200);
    assert_eq!(
        status(&t.app, Method::POST, "/v1/auth/logout-all", &used).await,
        204
    );
    assert_eq!(me(&t.app, &used).await, 401);
    assert_eq!(
        me(&t.app, &other).await,
        401,
        "minted before the logout-all, never used before it"
    );
    // Token times have whole seconds; 2 s later the issuer's clock is past the cutoff plus
    // its lead.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = t.issuer.mint_access(&ahead("hank"));
    assert_eq!(
        me(&t.app, &after).await,
        200,
        "a sign-in after the logout-all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_token_writes_nothing_and_spends_no_rate_limit() {
    let Some(pg) = postgres_admin_url() else {
        return;
    };
    let db = TestDatabase::create(&pg).await.expect("database");
    let c = cluster(db.url(), None).await;
    let spec = TokenSpec::new("erin").username("erin");
    let revoked = c.issuer.mint_access(&spec);
    assert_eq!(me(&c.a, &revoked).await, 200);
    assert_eq!(
        status(&c.a, Method::POST, "/v1/auth/logout-all", &revoked).await,
        204
    );
    // Token times have whole seconds: this one is from after the cutoff.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let valid = c.issuer.mint_access(&spec);

    // An instance that has never seen erin: nothing cached, so the request would load (and
    // write) the user row if the revocation were not checked first.
    let mut config = c.config.clone();
    config.rate_limit.per_user = 1;
    let fresh = spawn_with(&config).await;
    wait_ready(&fresh).await;
    let store = portcullis_store_postgres::PgStore::connect(db.url(), &ConnectOptions::default())
        .expect("store");
    let last_seen = || async {
        store
            .find_user(CLUSTER_ISSUER, "erin")
            .await
            .expect("read")
            .expect("erin exists")
            .last_seen_at
    };
    let before = last_seen().await;
    // Per-user burst is 2 at 1 request/s: ten requests would empty it many times over.
    for _ in 0..10 {
        assert_eq!(me(&fresh, &revoked).await, 401);
    }
    assert_eq!(last_seen().await, before, "last_seen_at untouched");
    assert_eq!(
        me(&fresh, &valid).await,
        200,
        "the user's rate limit was not spent by the revoked token"
    );
}

#[tokio::test]
async fn session_revocations_last_session_revocation_days() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let mut config = test_config(&url);
    config.data_dir = dir.path().to_owned();
    config.auth.session_revocation_days = 90;
    let t = tenant::start_with(config, dir).await;
    let pair = t.issuer.mint_pair(&TokenSpec::new("gina").username("gina"));
    let before = chrono::Utc::now();
    assert_eq!(
        status(&t.app, Method::POST, "/v1/auth/logout", &pair.access_token).await,
        204
    );
    let after = chrono::Utc::now();
    let store = portcullis_store_sqlite::SqliteStore::connect(&url, &ConnectOptions::default())
        .await
        .expect("store");
    let rows = store
        .active_revocations(chrono::Utc::now())
        .await
        .expect("read");
    let row = rows
        .iter()
        .find(|r| r.kind == RevocationKind::OriginJti && r.value == pair.origin_jti)
        .expect("the session's revocation");
    let days = chrono::Duration::days(90);
    // Stored with microseconds, hence the slack below `before`.
    assert!(
        row.expires_at >= before + days - chrono::Duration::milliseconds(1)
            && row.expires_at <= after + days,
        "expires {} for a logout between {before} and {after}",
        row.expires_at
    );
}
