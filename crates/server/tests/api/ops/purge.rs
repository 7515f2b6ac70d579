//! `portcullis purge --older-than`: what was deleted before the cutoff goes, with audit rows
//! naming it; the rest stays.

use super::fixture::{Fixture, all_audit, populate, sqlite};
use super::{assert_exit, run};
use crate::support::binary::stdout;
use chrono::{Duration, Utc};
use portcullis_store::{OrgStore, ResourceStore, RevocationKind, RevocationStore};
use portcullis_store_sqlite::SqliteStore;
use std::process::Output;
use tempfile::TempDir;

/// The fixture in a fresh SQLite file, purged once with `--older-than 30d`.
struct Purged {
    _dir: TempDir,
    url: String,
    store: SqliteStore,
    f: Fixture,
    /// Audit rows before the purge.
    before: usize,
    /// The purge's output.
    o: Output,
}

async fn purged() -> Purged {
    let (dir, url, store) = sqlite().await;
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

    let o = run(&["purge", "--older-than", "30d"], &url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("purged 2 resources, 1 org, 1 expired revocation"),
        "{}",
        stdout(&o)
    );

    Purged {
        _dir: dir,
        url,
        store,
        f,
        before,
        o,
    }
}

#[tokio::test]
async fn purge_removes_what_was_deleted_before_the_cutoff_only() {
    let p = purged().await;
    let (store, f) = (&p.store, &p.f);
    let earlier = Utc::now() - Duration::hours(2);
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
}

#[tokio::test]
async fn purge_audits_what_it_removed_under_one_request_id() {
    let p = purged().await;
    let (store, f, before, o) = (&p.store, &p.f, p.before, &p.o);
    let rows = all_audit(store).await;
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
    assert!(stdout(o).contains(request_id.as_str()), "{}", stdout(o));
    for r in new {
        assert_eq!(r.actor_id, None);
        assert_eq!(&r.request_id, request_id);
    }
}

#[tokio::test]
async fn a_second_purge_finds_nothing_and_the_chain_still_verifies() {
    let p = purged().await;
    let (url, store) = (&p.url, &p.store);
    let rows = all_audit(store).await;
    // Nothing left to purge; the chain still verifies with the purge rows in it.
    let o = run(&["purge", "--older-than", "30d"], url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("purged 0 resources, 0 orgs, 0 expired revocations"),
        "{}",
        stdout(&o)
    );
    let o = run(&["audit", "verify"], url);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("audit log intact: {} rows verified", rows.len())),
        "{}",
        stdout(&o)
    );
}
