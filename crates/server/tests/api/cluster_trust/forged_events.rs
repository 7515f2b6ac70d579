//! Pub/sub messages written straight into Redis: untagged, with an unknown resource action,
//! tagged with another deployment's secret, or a genuine one published again. None reaches a
//! socket or changes a session, and each is counted.

use super::{OTHER_SECRET, now_ms, redis_cli, rejected};
use crate::support::cluster::Cluster;
use crate::support::services::CLUSTER_SECRET;
use crate::support::ws::{Ws, subscriber};
use crate::support::{Caller, TestApp, postgres_admin_url, redis_url};
use portcullis::cluster::key::{ClusterKey, Purpose};
use portcullis_dev_issuer::TokenSpec;
use serde_json::{Value, json};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// A cluster on PostgreSQL and Redis; Alice subscribed on B to an org of hers; Bob signed in on
/// both; everything published on the events channel captured; the rejection counts before.
struct Scene {
    c: Cluster,
    redis: String,
    channel: String,
    alice: Caller,
    bob: String,
    bob_jti: String,
    org: String,
    ws: Ws,
    capture: Capture,
    malformed: u64,
    bad_mac: u64,
    replayed: u64,
}

async fn scene(pg: &str, redis: &str) -> Scene {
    let c = TestApp::postgres(pg)
        .with_redis(redis)
        .start_cluster()
        .await;
    let channel = format!("{}:events", c.a.config().redis_prefix);
    let alice = c.a.caller("alice");
    let bob_jti = uuid::Uuid::now_v7().to_string();
    let bob =
        c.a.caller_with(TokenSpec::new("bob").username("bob").jti(&bob_jti));
    assert_eq!(bob.me().await, 200);
    assert_eq!(bob.on(&c.b).me().await, 200);
    let org = alice.create_org("X").await;
    let ws = subscriber(&c.b, alice.token(), &org).await;
    let capture = Capture::start(redis, &channel).await;
    let malformed = rejected(&c.a, "event_malformed").await;
    let bad_mac = rejected(&c.a, "event_bad_mac").await;
    let replayed = rejected(&c.a, "event_replayed").await;
    Scene {
        redis: redis.to_owned(),
        channel,
        alice,
        bob: bob.token().to_owned(),
        bob_jti,
        org,
        ws,
        capture,
        malformed,
        bad_mac,
        replayed,
        c,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_events_are_dropped_and_counted() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let mut s = scene(&pg, &redis).await;
    // A revocation in the untagged shape instances once accepted: the token must keep working.
    let revocation = json!({
        "origin": uuid::Uuid::now_v7(),
        "event": {
            "type": "token_revoked",
            "kind": "jti",
            "value": s.bob_jti,
            "expires_at": "2999-01-01T00:00:00Z",
        },
    });
    redis_cli(&s.redis, &["PUBLISH", &s.channel, &revocation.to_string()]);
    // Resource events with an action outside the known set, untagged and tagged; one tagged
    // with another secret; then a correctly tagged one, the control, which is delivered.
    let forged_resource = uuid::Uuid::now_v7().to_string();
    let untagged_script = json!({
        "origin": uuid::Uuid::now_v7(),
        "event": resource_changed(&s.org, &forged_resource, "<script>"),
    });
    redis_cli(
        &s.redis,
        &["PUBLISH", &s.channel, &untagged_script.to_string()],
    );
    let tagged_script = sealed(
        CLUSTER_SECRET.as_bytes(),
        &s.channel,
        &resource_changed(&s.org, &forged_resource, "<script>"),
    );
    redis_cli(&s.redis, &["PUBLISH", &s.channel, &tagged_script]);
    let other_key = sealed(
        OTHER_SECRET,
        &s.channel,
        &resource_changed(&s.org, &forged_resource, "created"),
    );
    redis_cli(&s.redis, &["PUBLISH", &s.channel, &other_key]);
    let control = uuid::Uuid::now_v7().to_string();
    let tagged = sealed(
        CLUSTER_SECRET.as_bytes(),
        &s.channel,
        &resource_changed(&s.org, &control, "updated"),
    );
    redis_cli(&s.redis, &["PUBLISH", &s.channel, &tagged]);
    // One subscription delivers in publish order: whatever got through would come first.
    let e = s.ws.message().await;
    assert_eq!(
        (e["type"].as_str(), e["resource_id"].as_str()),
        (Some("event"), Some(control.as_str())),
        "only the control reaches the socket: {e}"
    );
    assert_eq!(
        s.c.b.bearer(&s.bob).me().await,
        200,
        "the forged revocation changed nothing"
    );
    assert_eq!(s.c.a.bearer(&s.bob).me().await, 200);
    assert!(
        rejected(&s.c.a, "event_malformed").await >= s.malformed + 3,
        "untagged revocation, untagged and tagged unknown action"
    );
    assert!(rejected(&s.c.a, "event_bad_mac").await > s.bad_mac);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replayed_event_is_dropped_and_counted() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let mut s = scene(&pg, &redis).await;
    // A genuine envelope, captured as it went by, published again.
    let first = s.alice.create_resource(&s.org, "first").await;
    let first_id = first["id"].as_str().expect("id").to_owned();
    assert_eq!(s.ws.message().await["resource_id"], first_id.as_str());
    let genuine = s
        .capture
        .line_where(|l| l.starts_with('{') && l.contains(&first_id))
        .await;
    redis_cli(&s.redis, &["PUBLISH", &s.channel, &genuine]);
    let second = s.alice.create_resource(&s.org, "second").await;
    let e = s.ws.message().await;
    assert_eq!(
        e["resource_id"], second["id"],
        "the replay was not delivered again: {e}"
    );
    assert!(rejected(&s.c.a, "event_replayed").await > s.replayed);
}
