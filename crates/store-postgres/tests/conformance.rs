//! The shared conformance suite against PostgreSQL: a freshly created database per test.
//!
//! Runs when `PORTCULLIS_TEST_DATABASE_URL` names a server (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without it the cases are skipped locally,
//! but fail under `CI=true`: CI must never pass by silently skipping the PostgreSQL suite.

use portcullis_store::ConnectOptions;
use portcullis_store::conformance::Harness;
use portcullis_store_postgres::PgStore;
use portcullis_store_postgres::testdb::TestDatabase;
use std::sync::Arc;

async fn harness() -> Option<Harness<PgStore>> {
    let Ok(admin_url) = std::env::var("PORTCULLIS_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but PORTCULLIS_TEST_DATABASE_URL is not set: the PostgreSQL suite must run in CI"
        );
        eprintln!("skipped: set PORTCULLIS_TEST_DATABASE_URL to run the PostgreSQL suite");
        return None;
    };
    let db = TestDatabase::create(&admin_url)
        .await
        .expect("create a test database (is PostgreSQL running?)");
    let store = PgStore::connect(db.url(), &ConnectOptions::default()).expect("pool");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrating twice is a no-op");
    Some(Harness::new(
        Arc::new(store),
        |s: Arc<PgStore>, sql: String| async move { s.execute_raw_sql(&sql).await },
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
        db,
    ))
}

portcullis_store::conformance_suite!(harness);

/// The read lane (`crates/store/sql/lane.rs`): connections kept between reads, and only those
/// whose statement ran to its end.
mod read_lane {
    use super::*;
    use portcullis_store::{NewUser, OrgId, OrgStore, UserId, UserStore};
    use sqlx::{Connection, Executor, PgConnection};
    use std::time::Duration;

    async fn store() -> Option<(PgStore, TestDatabase)> {
        let Ok(admin_url) = std::env::var("PORTCULLIS_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but PORTCULLIS_TEST_DATABASE_URL is not set"
            );
            return None;
        };
        let db = TestDatabase::create(&admin_url).await.expect("database");
        let store = PgStore::connect(db.url(), &ConnectOptions::default()).expect("pool");
        store.migrate().await.expect("migrate");
        Some((store, db))
    }

    fn someone(sub: &str) -> NewUser {
        NewUser {
            issuer: "https://issuer.test".into(),
            sub: sub.into(),
            username: Some(sub.into()),
            email: None,
            seen: true,
        }
    }

    #[tokio::test]
    async fn a_finished_read_keeps_its_connection_for_the_next() {
        let Some((store, _db)) = store().await else {
            return;
        };
        let user = store
            .upsert_user(&someone("lane-a"), chrono::Utc::now())
            .await
            .expect("user")
            .user;
        assert_eq!(store.lane_held(), 0, "writes do not go through the lane");
        for _ in 0..5 {
            let got = store.get_user(user.id).await.expect("read");
            assert_eq!(got.map(|u| u.id), Some(user.id));
            assert_eq!(
                store.lane_held(),
                1,
                "one connection serves sequential reads"
            );
        }
    }

    #[tokio::test]
    async fn the_lane_keeps_at_most_half_the_pool() {
        let Some((store, _db)) = store().await else {
            return;
        };
        // Ten reads at once take ten connections; half of them stay.
        let reads = (0..10).map(|_| {
            let s = store.clone();
            async move { s.get_user(UserId::new()).await }
        });
        for r in futures_util::future::join_all(reads).await {
            assert!(r.expect("read").is_none());
        }
        let held = store.lane_held();
        assert!((1..=5).contains(&held), "held {held}");
    }

    #[tokio::test]
    async fn a_read_cut_short_does_not_come_back_to_the_lane() {
        let Some((store, db)) = store().await else {
            return;
        };
        // Another session locks the table, so the read waits inside its statement.
        let mut locker = PgConnection::connect(db.url()).await.expect("connect");
        locker.execute("BEGIN").await.expect("begin");
        locker
            .execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .await
            .expect("lock");
        let cut = tokio::time::timeout(Duration::from_millis(300), store.get_user(UserId::new()));
        assert!(cut.await.is_err(), "the read waited for the lock");
        assert_eq!(
            store.lane_held(),
            0,
            "the interrupted connection is not kept"
        );
        locker.execute("ROLLBACK").await.expect("unlock");
        // Reads go on, and the next finished one is kept.
        let user = store
            .upsert_user(&someone("lane-c"), chrono::Utc::now())
            .await
            .expect("user")
            .user;
        let got = store.get_user(user.id).await.expect("read after the cut");
        assert_eq!(got.map(|u| u.id), Some(user.id));
        assert_eq!(store.lane_held(), 1);
    }

    /// Waits until `n` sessions of the test database wait on a lock.
    async fn until_waiting(admin: &mut PgConnection, db: &TestDatabase, n: i64) {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = '{}' AND wait_event_type = 'Lock'",
            db.name()
        );
        for _ in 0..200 {
            let (waiting,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_one(&mut *admin)
                .await
                .expect("count");
            if waiting >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{n} sessions never waited on the lock");
    }

    /// A read that finishes while the pool is exhausted hands its connection to the pool, not
    /// to the lane: a read queued on the pool cannot see the lane and would otherwise wait
    /// beside an idle connection until its acquire timeout.
    #[tokio::test]
    async fn a_read_queued_on_an_exhausted_pool_gets_the_next_finished_connection() {
        let Ok(admin_url) = std::env::var("PORTCULLIS_TEST_DATABASE_URL") else {
            return;
        };
        let db = TestDatabase::create(&admin_url).await.expect("database");
        let opts = ConnectOptions {
            max_connections: 4,
            acquire_timeout: Duration::from_secs(1),
        };
        let store = PgStore::connect(db.url(), &opts).expect("pool");
        store.migrate().await.expect("migrate");
        let mut admin = PgConnection::connect(db.url()).await.expect("connect");
        let mut users_lock = PgConnection::connect(db.url()).await.expect("connect");
        let mut orgs_lock = PgConnection::connect(db.url()).await.expect("connect");
        for (conn, table) in [
            (&mut users_lock, "users"),
            (&mut orgs_lock, "organizations"),
        ] {
            conn.execute("BEGIN").await.expect("begin");
            conn.execute(sqlx::AssertSqlSafe(format!(
                "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
            )))
            .await
            .expect("lock");
        }
        // Two writes hold half the pool for as long as `users` stays locked.
        let writes: Vec<_> = ["w1", "w2"]
            .map(|sub| {
                let s = store.clone();
                tokio::spawn(async move { s.upsert_user(&someone(sub), chrono::Utc::now()).await })
            })
            .into();
        // Two reads hold the other half until `organizations` is unlocked.
        let reads: Vec<_> = (0..2)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.get_org(OrgId::new(), false).await })
            })
            .collect();
        until_waiting(&mut admin, &db, 4).await;
        // A third read finds the lane empty and the pool exhausted: it queues on the pool.
        let queued = {
            let s = store.clone();
            tokio::spawn(async move { s.get_org(OrgId::new(), false).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        orgs_lock
            .execute("ROLLBACK")
            .await
            .expect("unlock organizations");
        for r in reads {
            assert!(r.await.expect("task").expect("read").is_none());
        }
        let third = queued.await.expect("task");
        assert!(third.is_ok(), "the queued read got a connection: {third:?}");
        users_lock.execute("ROLLBACK").await.expect("unlock users");
        for w in writes {
            w.await.expect("task").expect("write");
        }
    }

    #[tokio::test]
    async fn a_connection_that_died_in_the_lane_fails_once_and_is_dropped() {
        let Some((store, db)) = store().await else {
            return;
        };
        store.get_user(UserId::new()).await.expect("read");
        assert_eq!(store.lane_held(), 1);
        // The server ends every connection of this database but the caller's own.
        let mut admin = PgConnection::connect(db.url()).await.expect("connect");
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name()
        );
        admin
            .execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("terminate");
        // The dead connection fails its read and leaves the lane; a later read gets a fresh one.
        let mut failures = 0;
        let mut ok = false;
        for _ in 0..12 {
            match store.get_user(UserId::new()).await {
                Ok(_) => {
                    ok = true;
                    break;
                }
                Err(_) => failures += 1,
            }
        }
        assert!(ok, "reads recover after the server ended the connections");
        assert!(failures >= 1, "the dead connection was used once");
        assert_eq!(store.lane_held(), 1);
    }
}
