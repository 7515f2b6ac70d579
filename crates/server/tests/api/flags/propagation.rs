//! A flag set on one instance is in force on the others within a second (through Redis, or on
//! the same instance without it), and is stored: an instance started later has it.

use super::{listed, put_flag};
use crate::support::{TestApp, postgres_admin_url, redis_url};
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls with a fresh user each time (a successful call provisions the user) until a new user
/// gets `want` from `GET /v1/me`; returns how long that took.
async fn until_new_users_get(app: &TestApp, want: u16) -> Duration {
    let start = Instant::now();
    loop {
        let sub = format!("u-{}", uuid::Uuid::now_v7().simple());
        let got = app.caller(&sub).me().await;
        assert!(got < 500, "a 5xx during the scenario: {got}");
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A flag set on `a` is in force on `b` within a second, both ways.
async fn propagation(a: &TestApp, b: &TestApp) {
    let admin = a.admin("root");
    until_new_users_get(b, 200).await;
    assert_eq!(
        put_flag(&admin, "jit.provisioning", json!({"value": false})).await,
        200
    );
    let took = until_new_users_get(b, 403).await;
    assert!(
        took < Duration::from_secs(1),
        "the change reached B after {took:?}"
    );
    assert_eq!(
        put_flag(&admin, "jit.provisioning", json!({"value": true})).await,
        200
    );
    let took = until_new_users_get(b, 200).await;
    assert!(
        took < Duration::from_secs(1),
        "the change reached B after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_instance_is_in_force_on_the_other_through_redis_and_survives_a_restart() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let c = TestApp::postgres(&pg)
        .with_redis(&redis)
        .start_cluster()
        .await;
    propagation(&c.a, &c.b).await;
    propagation(&c.b, &c.a).await;

    // Stored in the database: an instance started afterwards has it from its first request.
    let admin = c.a.admin("root");
    assert_eq!(
        put_flag(&admin, "jit.provisioning", json!({"value": false})).await,
        200
    );
    let mut fresh = c.another().await;
    let newcomer = fresh.caller("newcomer");
    assert_eq!(newcomer.me().await, 403);
    // Null removes the override (stored as JSON null on PostgreSQL too).
    assert_eq!(
        put_flag(
            &admin.on(&fresh),
            "jit.provisioning",
            json!({"value": null})
        )
        .await,
        200
    );
    assert_eq!(newcomer.me().await, 200);
    fresh.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_without_redis_and_a_restart() {
    let mut c = TestApp::sqlite().start_cluster().await;
    propagation(&c.a, &c.a).await;
    let admin = c.a.admin("root");
    assert_eq!(
        put_flag(&admin, "revocation.check_reads", json!({"value": false})).await,
        200
    );
    c.a.stop().await.expect("stops");
    c.b.stop().await.expect("stops");
    let again = c.another().await;
    let reads = listed(&admin.on(&again), "revocation.check_reads").await;
    assert_eq!(reads["effective"], false);
    // And in force: a logged-out token still reads.
    let erin = again.caller("erin");
    assert_eq!(erin.post("/v1/auth/logout").status().await, 204);
    assert_eq!(erin.me().await, 200);
}
