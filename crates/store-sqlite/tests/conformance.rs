//! The shared conformance suite against SQLite: a fresh database file per test.

use portcullis_store::ConnectOptions;
use portcullis_store::conformance::Harness;
use portcullis_store_sqlite::SqliteStore;
use std::sync::Arc;

async fn harness() -> Option<Harness<SqliteStore>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = SqliteStore::connect(&url, &ConnectOptions::default())
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrating twice is a no-op");
    Some(Harness::new(
        Arc::new(store),
        |s: Arc<SqliteStore>, sql: String| async move { s.execute_raw_sql(&sql).await },
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        dir,
    ))
}

portcullis_store::conformance_suite!(harness);

/// The read lane (`crates/store/sql/lane.rs`) on SQLite: finished reads keep their connection.
#[tokio::test]
async fn a_finished_read_keeps_its_connection_for_the_next() {
    use portcullis_store::{NewUser, UserStore};
    let h = harness().await.expect("sqlite");
    let store = &*h.store;
    let user = store
        .upsert_user(
            &NewUser {
                issuer: "https://issuer.test".into(),
                sub: "lane".into(),
                username: None,
                email: None,
                seen: true,
            },
            chrono::Utc::now(),
        )
        .await
        .expect("user")
        .user;
    assert_eq!(store.lane_held(), 0, "writes do not go through the lane");
    for _ in 0..3 {
        let got = store.get_user(user.id).await.expect("read");
        assert_eq!(got.map(|u| u.id), Some(user.id));
        assert_eq!(store.lane_held(), 1);
    }
}

/// Reads that fill the lane leave the rest of the pool to callers that acquire from it
/// directly, such as the health ping: before the lane kept at most half the pool, a ping after
/// a burst of reads waited out its whole acquire timeout and readiness failed.
#[tokio::test]
async fn a_full_lane_leaves_the_pool_a_connection() {
    use portcullis_store::{Health, UserId, UserStore};
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("lane.db").display());
    let opts = ConnectOptions {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(1),
    };
    let store = SqliteStore::connect(&url, &opts).await.expect("open");
    store.migrate().await.expect("migrate");
    for _ in 0..5 {
        let reads = (0..8).map(|_| store.get_user(UserId::new()));
        for r in futures_util::future::join_all(reads).await {
            assert!(r.expect("read").is_none());
        }
        assert!(store.lane_held() <= 1, "held {}", store.lane_held());
        store.ping().await.expect("the ping finds a connection");
    }
}
