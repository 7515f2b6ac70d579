//! The checks the harness itself makes at the end of every test.

use crate::support::TestApp;
use portcullis_store::ConnectOptions;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A log edited behind the app's back fails the test that owns the app, when the app is
/// dropped; the same app with its log intact does not.
#[tokio::test]
async fn dropping_an_app_whose_audit_chain_is_broken_fails_the_test() {
    let intact = TestApp::sqlite().start().await;
    intact.caller("alice").create_org("Acme").await;
    assert!(catch_unwind(AssertUnwindSafe(|| drop(intact))).is_ok());

    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    alice.create_org("Acme").await;
    alice.create_org("Other").await;
    let store = portcullis_store_sqlite::SqliteStore::connect(
        app.database_url(),
        &ConnectOptions::default(),
    )
    .await
    .expect("open");
    store
        .execute_raw_sql("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .await
        .expect("drop the append-only guard");
    store
        .execute_raw_sql("UPDATE audit_log SET action = 'x' WHERE seq = 1")
        .await
        .expect("tamper");
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(app)));
    let message = dropped
        .err()
        .and_then(|p| p.downcast_ref::<String>().cloned())
        .expect("the drop fails with a message");
    assert!(
        message.contains("the audit chain is broken at the end of the test"),
        "{message}"
    );
}
