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
