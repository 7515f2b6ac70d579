//! `portcullis audit verify`: an intact log, an altered row (and a second one further on), and
//! rows removed from the end, caught with `--expect-head`; on SQLite and PostgreSQL.

use super::fixture::{all_audit, populate, sqlite};
use super::{assert_exit, broken_rows, printed_head, run};
use crate::support::binary::{stderr, stdout};
use crate::support::postgres_admin_url;
use portcullis_store::ConnectOptions;

#[tokio::test]
async fn verify_names_an_altered_row() {
    let (_dir, url, store) = sqlite().await;
    populate(&store).await;
    let rows = all_audit(&store).await;
    let o = run(&["audit", "verify"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", rows.len())),
        "{}",
        stdout(&o)
    );
    let last = rows.last().expect("rows");
    assert_eq!(printed_head(&o), format!("{}:{}", last.seq, last.hash));

    store
        .execute_raw_sql("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .await
        .expect("drop the append-only guard");
    store
        .execute_raw_sql("UPDATE audit_log SET action = 'x' WHERE seq = 2")
        .await
        .expect("tamper");
    let o = run(&["audit", "verify"], &url);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("audit log broken at row 2: row 2 was altered"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("intact"), "{}", stdout(&o));

    // A second, independent edit further on is reported too, not hidden by the first.
    store
        .execute_raw_sql("UPDATE audit_log SET request_id = 'forged' WHERE seq = 5")
        .await
        .expect("tamper");
    let o = run(&["audit", "verify"], &url);
    assert_exit(&o, 1);
    assert_eq!(
        broken_rows(&o),
        ["2: row 2 was altered", "5: row 5 was altered"]
    );
    assert!(
        stderr(&o).contains(&format!(
            "2 problems in {} rows read; rows up to 1 verify",
            rows.len()
        )),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn expect_head_catches_rows_removed_from_the_end() {
    let (_dir, url, store) = sqlite().await;
    populate(&store).await;
    let n = all_audit(&store).await.len();
    let o = run(&["audit", "verify"], &url);
    assert_exit(&o, 0);
    let head = printed_head(&o);
    let o = run(&["audit", "verify", "--expect-head", &head], &url);
    assert_exit(&o, 0);

    store
        .execute_raw_sql("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .await
        .expect("drop the append-only guard");
    store
        .execute_raw_sql("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .await
        .expect("truncate");

    // What is left is still a valid chain: only the recorded head shows the loss.
    let o = run(&["audit", "verify"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", n - 1)),
        "{}",
        stdout(&o)
    );
    let o = run(&["audit", "verify", "--expect-head", &head], &url);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&format!(
            "audit log broken at row {n}: row {n} no longer exists"
        )),
        "{}",
        stderr(&o)
    );

    // A head whose row is there with another hash.
    let (seq, hash) = head.split_once(':').expect("seq:hash");
    let other = format!("{}:{}", n - 1, hash);
    assert_ne!(seq, (n - 1).to_string());
    let o = run(&["audit", "verify", "--expect-head", &other], &url);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&format!("row {} has hash", n - 1)),
        "{}",
        stderr(&o)
    );
}
#[tokio::test]
async fn postgres_verify_names_an_altered_row() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let db = portcullis_store_postgres::testdb::TestDatabase::create(&admin)
        .await
        .expect("test database");
    let store = portcullis_store_postgres::PgStore::connect(db.url(), &ConnectOptions::default())
        .expect("connect");
    store.migrate().await.expect("migrate");
    populate(&store).await;
    let rows = all_audit(&store).await;

    let o = run(&["audit", "verify"], db.url());
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", rows.len())),
        "{}",
        stdout(&o)
    );
    let head = printed_head(&o);

    let o = run(&["purge", "--older-than", "30d"], db.url());
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("purged 2 resources, 1 org, 1 expired revocation"),
        "{}",
        stdout(&o)
    );
    let o = run(&["audit", "verify", "--expect-head", &head], db.url());
    assert_exit(&o, 0);

    store
        .execute_raw_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
        .await
        .expect("disable the append-only guard");
    store
        .execute_raw_sql("UPDATE audit_log SET action = 'x' WHERE seq = 2")
        .await
        .expect("tamper");
    store
        .execute_raw_sql("UPDATE audit_log SET request_id = 'forged' WHERE seq = 5")
        .await
        .expect("tamper");
    let o = run(&["audit", "verify", "--expect-head", &head], db.url());
    assert_exit(&o, 1);
    assert_eq!(
        broken_rows(&o),
        ["2: row 2 was altered", "5: row 5 was altered"]
    );
    drop(store);
}
