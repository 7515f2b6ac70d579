//! `portcullis purge` and `portcullis audit verify|export` through the real binary, on a
//! database prepared in-process with the store.

use chrono::{DateTime, Duration, Utc};
use portcullis_store::{
    AuditEntry, AuditStore, ChangeContext, ConnectOptions, NewResource, NewUser, OrgId, OrgStore,
    ResourceId, ResourceStore, RevocationKind, RevocationStore, RevokedToken,
};
use portcullis_store_sqlite::SqliteStore;
use std::process::{Command, Output};
use tempfile::TempDir;

/// The binary with no inherited `PORTCULLIS_*` variable, in a fresh directory, on `db_url`.
fn portcullis(args: &[&str], db_url: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(args).current_dir(dir.path());
    for (k, _) in std::env::vars() {
        if k.starts_with("PORTCULLIS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("PORTCULLIS_DATABASE_URL", db_url);
    cmd.output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}

fn resource(org: OrgId, owner: portcullis_store::UserId, name: &str) -> NewResource {
    NewResource {
        org_id: org,
        owner_id: owner,
        kind: "doc".into(),
        name: name.into(),
        data: serde_json::json!({ "n": name }),
    }
}

/// What the fixture created, for the assertions.
struct Fixture {
    live_org: OrgId,
    old_org: OrgId,
    recent_org: OrgId,
    old_resources: Vec<ResourceId>,
    recent_resource: ResourceId,
    live_resource: ResourceId,
    expired_jti: String,
    live_jti: String,
}

/// Orgs and resources soft-deleted 40 days ago (to purge) and 5 days ago (to keep), live ones,
/// and one expired and one live token revocation.
async fn populate<S: portcullis_store::Store + ?Sized>(store: &S) -> Fixture {
    let now = Utc::now();
    let old = now - Duration::days(40);
    let recent = now - Duration::days(5);
    let user = store
        .upsert_user(
            &NewUser {
                issuer: "https://issuer.test".into(),
                sub: "alice".into(),
                username: Some("alice".into()),
                email: None,
                seen: true,
            },
            now,
        )
        .await
        .expect("user")
        .user
        .id;
    let at = |t: DateTime<Utc>| ChangeContext::new(Some(user), "setup", t);
    let live_org = store
        .create_org(&at(now), user, "live")
        .await
        .expect("org")
        .id;
    let old_org = store
        .create_org(&at(now), user, "old")
        .await
        .expect("org")
        .id;
    let recent_org = store
        .create_org(&at(now), user, "recent")
        .await
        .expect("org")
        .id;
    // A live resource inside the org that goes: it leaves with its org.
    store
        .create_resource(&at(now), &resource(old_org, user, "inside-old-org"))
        .await
        .expect("resource");
    store
        .soft_delete_org(&at(old), old_org)
        .await
        .expect("delete org");
    store
        .soft_delete_org(&at(recent), recent_org)
        .await
        .expect("delete org");

    let mut old_resources = Vec::new();
    for name in ["old-1", "old-2"] {
        let r = store
            .create_resource(&at(now), &resource(live_org, user, name))
            .await
            .expect("resource");
        store
            .soft_delete_resource(&at(old), live_org, r.id)
            .await
            .expect("delete resource");
        old_resources.push(r.id);
    }
    let recent_resource = store
        .create_resource(&at(now), &resource(live_org, user, "recent"))
        .await
        .expect("resource")
        .id;
    store
        .soft_delete_resource(&at(recent), live_org, recent_resource)
        .await
        .expect("delete resource");
    let live_resource = store
        .create_resource(&at(now), &resource(live_org, user, "live"))
        .await
        .expect("resource")
        .id;

    let (expired_jti, live_jti) = ("jti-expired".to_owned(), "jti-live".to_owned());
    for (jti, exp) in [
        (&expired_jti, now - Duration::hours(1)),
        (&live_jti, now + Duration::hours(1)),
    ] {
        store
            .revoke_token(
                &at(now),
                &RevokedToken {
                    kind: RevocationKind::Jti,
                    value: jti.clone(),
                    expires_at: exp,
                },
            )
            .await
            .expect("revoke");
    }
    Fixture {
        live_org,
        old_org,
        recent_org,
        old_resources,
        recent_resource,
        live_resource,
        expired_jti,
        live_jti,
    }
}

async fn all_audit<S: AuditStore + ?Sized>(store: &S) -> Vec<AuditEntry> {
    store.audit_after(0, 100_000).await.expect("audit rows")
}

/// A migrated SQLite file in a fresh directory, with the store that prepared it.
async fn sqlite() -> (TempDir, String, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let store = SqliteStore::connect(&url, &ConnectOptions::default())
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    (dir, url, store)
}

/// The `head: <seq>:<hash>` line of a successful `audit verify`.
fn printed_head(o: &Output) -> String {
    stdout(o)
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .expect("verify prints the head")
        .to_owned()
}

#[tokio::test]
async fn purge_removes_what_was_deleted_before_the_cutoff_and_audits_it() {
    let (_dir, url, store) = sqlite().await;
    let f = populate(&store).await;
    let before = all_audit(&store).await.len();
    // Revocation rows are checked at a time when both tokens were still valid.
    let earlier = Utc::now() - Duration::hours(2);
    assert!(
        store
            .is_revoked(&[(RevocationKind::Jti, &f.expired_jti)], earlier)
            .await
            .expect("read")
    );

    let o = portcullis(&["purge", "--older-than", "30d"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("purged 2 resources, 1 org, 1 expired revocation"),
        "{}",
        stdout(&o)
    );

    for id in &f.old_resources {
        assert!(
            store
                .get_resource(f.live_org, *id, true)
                .await
                .expect("read")
                .is_none()
        );
    }
    assert!(
        store
            .get_resource(f.live_org, f.recent_resource, true)
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        store
            .get_resource(f.live_org, f.live_resource, false)
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        store
            .get_org(f.old_org, true)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .get_org(f.recent_org, true)
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        store
            .get_org(f.live_org, false)
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        !store
            .is_revoked(&[(RevocationKind::Jti, &f.expired_jti)], earlier)
            .await
            .expect("read")
    );
    assert!(
        store
            .is_revoked(&[(RevocationKind::Jti, &f.live_jti)], Utc::now())
            .await
            .expect("read")
    );

    let rows = all_audit(&store).await;
    let new = &rows[before..];
    let purge_rows = |action: &str| {
        new.iter()
            .filter(|r| r.action == action)
            .collect::<Vec<_>>()
    };
    let resources = purge_rows("resource.purge");
    let mut purged_ids: Vec<String> = resources
        .iter()
        .filter_map(|r| r.resource_id.clone())
        .collect();
    purged_ids.sort();
    let mut expected: Vec<String> = f.old_resources.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(purged_ids, expected);
    let orgs = purge_rows("org.purge");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].org_id, Some(f.old_org));
    assert_eq!(new.len(), 3, "only the purge rows were added: {new:?}");
    let request_id = &new[0].request_id;
    assert!(request_id.starts_with("purge-"), "{request_id}");
    assert!(stdout(&o).contains(request_id.as_str()), "{}", stdout(&o));
    for r in new {
        assert_eq!(r.actor_id, None);
        assert_eq!(&r.request_id, request_id);
    }

    // Nothing left to purge; the chain still verifies with the purge rows in it.
    let o = portcullis(&["purge", "--older-than", "30d"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("purged 0 resources, 0 orgs, 0 expired revocations"),
        "{}",
        stdout(&o)
    );
    let o = portcullis(&["audit", "verify"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", rows.len())),
        "{}",
        stdout(&o)
    );
}

#[test]
fn invalid_durations_exit_2() {
    let url = "sqlite://never-opened.db";
    for bad in ["30x", "0d", "", "-1d", "1.5h", "99999999999999d"] {
        let o = portcullis(&["purge", "--older-than", bad], url);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains("--older-than"), "{bad}: {}", stderr(&o));
    }
    let o = portcullis(&["purge"], url);
    assert_exit(&o, 2);
    let o = portcullis(&["audit", "verify", "--expect-head", "3:nothex"], url);
    assert_exit(&o, 2);
    let o = portcullis(&["audit", "export", "--since", "yesterday"], url);
    assert_exit(&o, 2);
}

#[test]
fn commands_do_not_create_or_migrate_a_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        &["purge", "--older-than", "30d"][..],
        &["audit", "verify"],
        &["audit", "export"],
    ] {
        let o = portcullis(args, &url);
        assert_exit(&o, 1);
        assert!(stderr(&o).contains("portcullis migrate"), "{}", stderr(&o));
        assert!(!missing.exists(), "{args:?} created the file");
    }
    // An existing file without the schema.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("touch");
    let url = format!("sqlite://{}", empty.display());
    for args in [
        &["purge", "--older-than", "30d"][..],
        &["audit", "verify"],
        &["audit", "export"],
    ] {
        let o = portcullis(args, &url);
        assert_exit(&o, 1);
        assert!(
            stderr(&o).contains("no Portcullis schema"),
            "{}",
            stderr(&o)
        );
    }
}

#[tokio::test]
async fn verify_names_an_altered_row() {
    let (_dir, url, store) = sqlite().await;
    populate(&store).await;
    let rows = all_audit(&store).await;
    let o = portcullis(&["audit", "verify"], &url);
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
    let o = portcullis(&["audit", "verify"], &url);
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
    let o = portcullis(&["audit", "verify"], &url);
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

/// The `audit log broken at row ...` lines of a failed `audit verify`, without that prefix.
fn broken_rows(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| l.strip_prefix("audit log broken at row "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn expect_head_catches_rows_removed_from_the_end() {
    let (_dir, url, store) = sqlite().await;
    populate(&store).await;
    let n = all_audit(&store).await.len();
    let o = portcullis(&["audit", "verify"], &url);
    assert_exit(&o, 0);
    let head = printed_head(&o);
    let o = portcullis(&["audit", "verify", "--expect-head", &head], &url);
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
    let o = portcullis(&["audit", "verify"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", n - 1)),
        "{}",
        stdout(&o)
    );
    let o = portcullis(&["audit", "verify", "--expect-head", &head], &url);
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
    let o = portcullis(&["audit", "verify", "--expect-head", &other], &url);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&format!("row {} has hash", n - 1)),
        "{}",
        stderr(&o)
    );
}

fn ndjson(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn export_writes_ndjson_in_seq_order_and_filters() {
    let (_dir, url, store) = sqlite().await;
    let f = populate(&store).await;
    let rows = all_audit(&store).await;

    let o = portcullis(&["audit", "export"], &url);
    assert_exit(&o, 0);
    let lines = ndjson(&o);
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(line, &serde_json::to_value(row).expect("json"));
    }
    let seqs: Vec<i64> = lines
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>());
    let keys: Vec<&String> = lines[0].as_object().expect("object").keys().collect();
    for k in [
        "seq",
        "id",
        "occurred_at",
        "actor_id",
        "org_id",
        "action",
        "resource_type",
        "resource_id",
        "changes",
        "request_id",
        "prev_hash",
        "hash",
    ] {
        assert!(
            keys.iter().any(|key| key.as_str() == k),
            "{k} missing: {keys:?}"
        );
    }

    // --org
    let org = f.recent_org.to_string();
    let o = portcullis(&["audit", "export", "--org", &org], &url);
    assert_exit(&o, 0);
    let lines = ndjson(&o);
    let expected: Vec<i64> = rows
        .iter()
        .filter(|r| r.org_id == Some(f.recent_org))
        .map(|r| r.seq)
        .collect();
    assert!(!expected.is_empty() && expected.len() < rows.len());
    assert_eq!(
        lines
            .iter()
            .map(|l| l["seq"].as_i64().expect("seq"))
            .collect::<Vec<_>>(),
        expected
    );

    // --since / --until: the rows dated 40 days ago are out of order in time, not in seq.
    let cut = Utc::now() - Duration::days(20);
    let cut_s = cut.to_rfc3339();
    let o = portcullis(&["audit", "export", "--since", &cut_s], &url);
    assert_exit(&o, 0);
    let since: Vec<i64> = ndjson(&o)
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = rows
        .iter()
        .filter(|r| r.occurred_at >= cut)
        .map(|r| r.seq)
        .collect();
    assert_eq!(since, expected);
    let o = portcullis(&["audit", "export", "--until", &cut_s], &url);
    assert_exit(&o, 0);
    let until: Vec<i64> = ndjson(&o)
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = rows
        .iter()
        .filter(|r| r.occurred_at < cut)
        .map(|r| r.seq)
        .collect();
    assert_eq!(
        expected.len(),
        3,
        "the two old resource deletions and the old org deletion"
    );
    assert_eq!(until, expected);
    assert_eq!(since.len() + until.len(), rows.len());

    // Both, with the org: only the recent org's deletion (5 days ago) is in [20 days ago, 1 day ago).
    let end = (Utc::now() - Duration::days(1)).to_rfc3339();
    let o = portcullis(
        &[
            "audit", "export", "--since", &cut_s, "--until", &end, "--org", &org,
        ],
        &url,
    );
    assert_exit(&o, 0);
    let lines = ndjson(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["action"], "org.delete");
}

#[tokio::test]
async fn postgres_verify_names_an_altered_row() {
    let Some(admin) = crate::helpers::postgres_admin_url() else {
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

    let o = portcullis(&["audit", "verify"], db.url());
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", rows.len())),
        "{}",
        stdout(&o)
    );
    let head = printed_head(&o);

    let o = portcullis(&["purge", "--older-than", "30d"], db.url());
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("purged 2 resources, 1 org, 1 expired revocation"),
        "{}",
        stdout(&o)
    );
    let o = portcullis(&["audit", "verify", "--expect-head", &head], db.url());
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
    let o = portcullis(&["audit", "verify", "--expect-head", &head], db.url());
    assert_exit(&o, 1);
    assert_eq!(
        broken_rows(&o),
        ["2: row 2 was altered", "5: row 5 was altered"]
    );
    drop(store);
}
