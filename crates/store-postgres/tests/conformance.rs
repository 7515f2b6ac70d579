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
