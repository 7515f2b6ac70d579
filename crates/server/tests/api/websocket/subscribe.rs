//! Resource events reach the sockets subscribed to their org, and only those.

use crate::support::TestApp;
use crate::support::ws::connect;
use serde_json::json;

#[tokio::test]
async fn events_arrive_for_subscribed_orgs_only() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let bob = app.caller("bob");
    let a = alice.create_org("A").await;
    let b = alice.create_org("B").await;
    let bobs = bob.create_org("Bob's").await;
    let (mut ws, _) = connect(&app, alice.token()).await;
    // Someone else's org: refused as HTTP would (404 there, not_found here).
    ws.send(json!({"type": "subscribe", "org_id": bobs})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
    ws.send(json!({"type": "subscribe", "org_id": a})).await;
    assert_eq!(ws.expect("subscribed").await["org_id"], a.as_str());

    alice.create_resource(&b, "in-b").await;
    bob.create_resource(&bobs, "in-bobs").await;
    let r = alice.create_resource(&a, "in-a").await;
    let id = r["id"].as_str().expect("id");
    // The events of B and Bob's org were published first: the next message is A's.
    let e = ws.expect("event").await;
    assert_eq!(e["org_id"], a.as_str());
    assert_eq!(e["resource_id"], id);
    assert_eq!(e["action"], "created");
    assert_eq!(e["version"], 1);
    alice
        .delete(&format!("/v1/orgs/{a}/resources/{id}"))
        .expect(204)
        .await;
    let e = ws.expect("event").await;
    assert_eq!(
        (e["action"].as_str(), e["version"].as_i64()),
        (Some("deleted"), Some(2))
    );

    ws.send(json!({"type": "unsubscribe", "org_id": a})).await;
    ws.expect("unsubscribed").await;
    alice.create_resource(&a, "after").await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}
