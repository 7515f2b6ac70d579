//! Sessions end across instances: logout, logout-all and disable on instance A are refused on
//! instance B within a second (PostgreSQL and Redis shared); the same on one instance without
//! Redis; and with Redis gone mid-test, revocations still hold through the database and
//! nothing answers 5xx.

use crate::support::proxy::Proxy;
use crate::support::services::redis_addr;
use crate::support::{TestApp, postgres_admin_url, redis_url};
use portcullis_dev_issuer::TokenSpec;
use std::time::{Duration, Instant};

/// Polls `GET /v1/me` on `app` until it answers `want`; returns how long that took. Fails on
/// any 5xx, and after `limit`.
async fn until(app: &TestApp, token: &str, want: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let got = app.bearer(token).me().await;
        assert!(got < 500, "a 5xx during the scenario: {got}");
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "still {got}, not {want}, after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A user with two separate sign-ins (two refresh sessions).
fn two_sessions(app: &TestApp, sub: &str) -> (String, String) {
    let spec = TokenSpec::new(sub).username(sub);
    (
        app.issuer().mint_access(&spec),
        app.issuer().mint_access(&spec),
    )
}

/// Logout, logout-all and disable on `a`, in force on `b` within a second (`a` and `b` are
/// the same instance when there is one).
async fn scenario(a: &TestApp, b: &TestApp) {
    // logout on A: that session is refused on B, the other session of the user still works.
    let (t1, t2) = two_sessions(a, "alice");
    assert_eq!(b.bearer(&t1).me().await, 200);
    assert_eq!(b.bearer(&t2).me().await, 200);
    a.bearer(&t1).post("/v1/auth/logout").expect(204).await;
    let took = until(b, &t1, 401, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "logout reached B after {took:?}"
    );
    assert_eq!(
        b.bearer(&t2).me().await,
        200,
        "another session of the same user is untouched"
    );

    // logout-all on A: every token of the user issued so far is refused on B.
    let (u1, u2) = two_sessions(a, "bob");
    assert_eq!(b.bearer(&u1).me().await, 200);
    a.bearer(&u1).post("/v1/auth/logout-all").expect(204).await;
    let took = until(b, &u2, 401, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "logout-all reached B after {took:?}"
    );
    // A sign-in after the cutoff works again (token times have whole seconds).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(b.caller("bob").me().await, 200);

    // disable on A (by a platform admin): the user is refused on B; enable: back.
    let admin = a.caller_with(TokenSpec::new("root").groups(["portcullis-admin"]));
    let carol = a.caller("carol");
    let carol_id = carol.on(b).id().await;
    let carol = carol.token();
    let path = format!("/v1/admin/users/{carol_id}/disable");
    admin.post(&path).expect(200).await;
    let took = until(b, carol, 401, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "disable reached B after {took:?}"
    );
    let path = format!("/v1/admin/users/{carol_id}/enable");
    admin.post(&path).expect(200).await;
    let took = until(b, carol, 200, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "enable reached B after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_revocations_through_redis() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let c = TestApp::postgres(&pg)
        .with_redis(&redis)
        .start_cluster()
        .await;
    assert_eq!(
        c.b.events_mode().await,
        "live",
        "B answers from memory, fed by Redis"
    );
    scenario(&c.a, &c.b).await;
    assert_eq!(
        c.b.events_mode().await,
        "live",
        "and stayed in sync throughout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_without_redis() {
    let c = TestApp::sqlite().start_cluster().await;
    scenario(&c.a, &c.a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocations_hold_through_a_redis_outage() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let upstream = redis_addr(&redis);
    let (proxy, proxy_addr) = Proxy::to(upstream).await;
    let c = TestApp::postgres(&pg)
        .with_redis(&format!("redis://{proxy_addr}"))
        .start_cluster()
        .await;
    assert_eq!(c.b.events_mode().await, "live");

    let (t1, t2) = two_sessions(&c.a, "dave");
    assert_eq!(
        c.b.bearer(&t1).me().await,
        200,
        "cached on B while Redis is up"
    );
    proxy.stop().await;
    let start = Instant::now();
    while c.b.events_mode().await != "database_fallback" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "B never noticed Redis was gone"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A revokes while Redis is down: the event cannot travel, the database has it.
    c.a.bearer(&t1).post("/v1/auth/logout").expect(204).await;
    assert_eq!(
        c.b.bearer(&t1).me().await,
        401,
        "B answers from the database"
    );
    assert_eq!(c.b.bearer(&t2).me().await, 200);

    // Redis comes back on the same address: B resubscribes, reloads, and still refuses.
    let (_proxy, _) = Proxy::start(proxy_addr, upstream).await;
    let start = Instant::now();
    while c.b.events_mode().await != "live" {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "B never resubscribed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        c.b.bearer(&t1).me().await,
        401,
        "the revocation survives the resync"
    );
    assert_eq!(c.b.bearer(&t2).me().await, 200);
}
