//! Sessions end across instances: logout, logout-all and disable on instance A are refused on
//! instance B within a second (PostgreSQL and Redis shared); the same on one instance without
//! Redis; and with Redis gone mid-test, revocations still hold through the database and
//! nothing answers 5xx.

use crate::helpers::{
    Cluster, Proxy, TestApp, client, cluster, events_mode, me, postgres_admin_url, redis_prefix,
    redis_url, status,
};
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use portcullis_store_postgres::testdb::TestDatabase;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Polls `GET /v1/me` on `app` until it answers `want`; returns how long that took. Fails on
/// any 5xx, and after `limit`.
async fn until(app: &TestApp, token: &str, want: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let got = me(app, token).await;
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
fn two_sessions(issuer: &DevIssuer, sub: &str) -> (String, String) {
    let spec = TokenSpec::new(sub).username(sub);
    (issuer.mint_access(&spec), issuer.mint_access(&spec))
}

/// The scenario of the issue, run against any pair of instances (the same one twice for a
/// single instance).
async fn scenario(c: &Cluster, a: &TestApp, b: &TestApp) {
    let post = reqwest::Method::POST;
    // logout on A: that session is refused on B, the other session of the user still works.
    let (t1, t2) = two_sessions(&c.issuer, "alice");
    assert_eq!(me(b, &t1).await, 200);
    assert_eq!(me(b, &t2).await, 200);
    assert_eq!(status(a, post.clone(), "/v1/auth/logout", &t1).await, 204);
    let took = until(b, &t1, 401, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "logout reached B after {took:?}"
    );
    assert_eq!(
        me(b, &t2).await,
        200,
        "another session of the same user is untouched"
    );

    // logout-all on A: every token of the user issued so far is refused on B.
    let (u1, u2) = two_sessions(&c.issuer, "bob");
    assert_eq!(me(b, &u1).await, 200);
    assert_eq!(
        status(a, post.clone(), "/v1/auth/logout-all", &u1).await,
        204
    );
    let took = until(b, &u2, 401, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "logout-all reached B after {took:?}"
    );
    // A sign-in after the cutoff works again (token times have whole seconds).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = c.issuer.mint_access(&TokenSpec::new("bob").username("bob"));
    assert_eq!(me(b, &fresh).await, 200);

    // disable on A (by a platform admin): the user is refused on B; enable: back.
    let admin = c
        .issuer
        .mint_access(&TokenSpec::new("root").groups(["portcullis-admin"]));
    let carol = c
        .issuer
        .mint_access(&TokenSpec::new("carol").username("carol"));
    let me_json: serde_json::Value = client()
        .get(b.url("/v1/me"))
        .bearer_auth(&carol)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let carol_id = me_json["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/admin/users/{carol_id}/disable");
    assert_eq!(status(a, post.clone(), &path, &admin).await, 200);
    let took = until(b, &carol, 401, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(1),
        "disable reached B after {took:?}"
    );
    let path = format!("/v1/admin/users/{carol_id}/enable");
    assert_eq!(status(a, post, &path, &admin).await, 200);
    let took = until(b, &carol, 200, Duration::from_secs(5)).await;
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
    let db = TestDatabase::create(&pg).await.expect("database");
    let c = cluster(db.url(), Some((&redis, &redis_prefix()))).await;
    assert_eq!(
        events_mode(&c.b).await,
        "live",
        "B answers from memory, fed by Redis"
    );
    scenario(&c, &c.a, &c.b).await;
    assert_eq!(
        events_mode(&c.b).await,
        "live",
        "and stayed in sync throughout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_without_redis() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let c = cluster(&url, None).await;
    scenario(&c, &c.a, &c.a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocations_hold_through_a_redis_outage() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let url = reqwest::Url::parse(&redis).expect("redis url");
    let upstream: SocketAddr = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(6379)
    )
    .parse()
    .expect("the Redis URL uses an IP address");
    let (proxy, proxy_addr) = Proxy::start("127.0.0.1:0".parse().expect("addr"), upstream).await;
    let db = TestDatabase::create(&pg).await.expect("database");
    let via_proxy = format!("redis://{proxy_addr}");
    let c = cluster(db.url(), Some((&via_proxy, &redis_prefix()))).await;
    assert_eq!(events_mode(&c.b).await, "live");

    let (t1, t2) = two_sessions(&c.issuer, "dave");
    assert_eq!(me(&c.b, &t1).await, 200, "cached on B while Redis is up");
    proxy.stop().await;
    let start = Instant::now();
    while events_mode(&c.b).await != "database_fallback" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "B never noticed Redis was gone"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A revokes while Redis is down: the event cannot travel, the database has it.
    assert_eq!(
        status(&c.a, reqwest::Method::POST, "/v1/auth/logout", &t1).await,
        204
    );
    assert_eq!(me(&c.b, &t1).await, 401, "B answers from the database");
    assert_eq!(me(&c.b, &t2).await, 200);

    // Redis comes back on the same address: B resubscribes, reloads, and still refuses.
    let (_proxy, _) = Proxy::start(proxy_addr, upstream).await;
    let start = Instant::now();
    while events_mode(&c.b).await != "live" {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "B never resubscribed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        me(&c.b, &t1).await,
        401,
        "the revocation survives the resync"
    );
    assert_eq!(me(&c.b, &t2).await, 200);
}
