//! How long a revocation holds and what it stops: a jti-only token refused for as long as the
//! verifier would accept it, a logout-all cutoff that allows for an issuer clock running ahead,
//! a revoked token that writes nothing and spends no rate limit, and session revocations kept
//! for `auth.session_revocation_days`.

use crate::support::services::CLUSTER_ISSUER;
use crate::support::{TestApp, postgres_admin_url};
use portcullis_dev_issuer::TokenSpec;
use portcullis_store::{ConnectOptions, RevocationKind, RevocationStore, UserStore};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[tokio::test]
async fn a_jti_only_token_expired_within_the_leeway_stays_refused_after_logout() {
    let app = TestApp::sqlite().start().await;
    let now = unix_now();
    // Expired 5 s ago: the verifier's 30 s leeway still accepts it.
    let frank = app.caller_with(
        TokenSpec::new("frank")
            .username("frank")
            .omit("origin_jti")
            .issued_at(now - 65)
            .ttl(Duration::from_secs(60)),
    );
    assert_eq!(frank.me().await, 200);
    assert_eq!(frank.post("/v1/auth/logout").status().await, 204);
    assert_eq!(frank.me().await, 401);
}

#[tokio::test]
async fn logout_all_covers_tokens_from_an_issuer_clock_running_ahead() {
    let app = TestApp::sqlite().start().await;
    // The issuer's clock runs 10 s ahead of ours (within the 30 s leeway): iat and auth_time
    // of everything it mints are 10 s in our future.
    let ahead = |sub: &str| TokenSpec::new(sub).username(sub).issued_at(unix_now() + 10);
    let spec = ahead("hank");
    let used = app.caller_with(spec.clone());
    let other = app.caller_with(spec);
    assert_eq!(used.me().await, 200);
    assert_eq!(used.post("/v1/auth/logout-all").status().await, 204);
    assert_eq!(used.me().await, 401);
    assert_eq!(
        other.me().await,
        401,
        "minted before the logout-all, never used before it"
    );
    // Token times have whole seconds; 2 s later the issuer's clock is past the cutoff plus
    // its lead.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = app.caller_with(ahead("hank"));
    assert_eq!(after.me().await, 200, "a sign-in after the logout-all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_token_writes_nothing_and_spends_no_rate_limit() {
    let Some(pg) = postgres_admin_url() else {
        return;
    };
    let c = TestApp::postgres(&pg).start_cluster().await;
    let spec = TokenSpec::new("erin").username("erin");
    let revoked = c.a.caller_with(spec.clone());
    assert_eq!(revoked.me().await, 200);
    assert_eq!(revoked.post("/v1/auth/logout-all").status().await, 204);
    // Token times have whole seconds: this one is from after the cutoff.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let valid = c.a.caller_with(spec);

    // An instance that has never seen erin: nothing cached, so the request would load (and
    // write) the user row if the revocation were not checked first.
    let mut config = c.a.config().clone();
    config.rate_limit.per_user = 1;
    let fresh = c.a.instance(&config).await;
    fresh.wait_ready().await;
    let store =
        portcullis_store_postgres::PgStore::connect(c.a.database_url(), &ConnectOptions::default())
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
        assert_eq!(revoked.on(&fresh).me().await, 401);
    }
    assert_eq!(last_seen().await, before, "last_seen_at untouched");
    assert_eq!(
        valid.on(&fresh).me().await,
        200,
        "the user's rate limit was not spent by the revoked token"
    );
}

#[tokio::test]
async fn session_revocations_last_session_revocation_days() {
    let app = TestApp::sqlite()
        .with_config(|c| c.auth.session_revocation_days = 90)
        .start()
        .await;
    let pair = app
        .issuer()
        .mint_pair(&TokenSpec::new("gina").username("gina"));
    let before = chrono::Utc::now();
    assert_eq!(
        app.bearer(&pair.access_token)
            .post("/v1/auth/logout")
            .status()
            .await,
        204
    );
    let after = chrono::Utc::now();
    let store = portcullis_store_sqlite::SqliteStore::connect(
        app.database_url(),
        &ConnectOptions::default(),
    )
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
