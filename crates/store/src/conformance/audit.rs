use super::support::{Harness, at, ctx, user};
use crate::audit_chain::{ChainBreak, verify_log};
use crate::{AuditFilter, NewAuditEntry, PageRequest, Store};
use serde_json::json;

async fn some_history<S: Store>(s: &S) {
    let alice = user(s, "alice").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Acme")
        .await
        .expect("org");
    for i in 0..3 {
        s.append_audit(
            &ctx(Some(alice.id), 2 + i),
            &NewAuditEntry {
                org_id: Some(org.id),
                action: "test.event".into(),
                resource_type: "test".into(),
                resource_id: Some(format!("t{i}")),
                changes: json!({"i": i, "big": 1e2, "nested": {"z": 1, "a": [1.5]}}),
            },
        )
        .await
        .expect("append");
    }
}

pub async fn audit_log_is_append_only_in_the_database<S: Store + 'static>(h: &Harness<S>) {
    some_history(&*h.store).await;
    let before = h.store.audit_after(0, 100).await.expect("audit");
    assert_eq!(before.len(), 5);
    assert!(
        h.raw("UPDATE audit_log SET action = 'forged'")
            .await
            .is_err()
    );
    assert!(h.raw("DELETE FROM audit_log WHERE seq = 1").await.is_err());
    assert!(h.raw("DELETE FROM audit_log").await.is_err());
    assert_eq!(h.store.audit_after(0, 100).await.expect("audit"), before);
    // Appending still works after the refused statements.
    h.store
        .append_audit(
            &ctx(None, 9),
            &NewAuditEntry {
                org_id: None,
                action: "test.after".into(),
                resource_type: "test".into(),
                resource_id: None,
                changes: json!({}),
            },
        )
        .await
        .expect("append");
    let report = verify_log(&*h.store).await.expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.rows, 6);
}

pub async fn audit_chain_verifies_and_names_a_tampered_row<S: Store + 'static>(h: &Harness<S>) {
    some_history(&*h.store).await;
    let rows = h.store.audit_after(0, 100).await.expect("audit");
    assert_eq!(rows[0].prev_hash, crate::audit_chain::GENESIS_HASH);
    assert!(
        rows.windows(2)
            .all(|w| w[1].prev_hash == w[0].hash && w[1].seq == w[0].seq + 1)
    );
    let report = verify_log(&*h.store).await.expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.verified_up_to(), 5);
    assert_eq!(
        report.head.as_ref().map(|hd| (hd.seq, hd.hash.as_str())),
        Some((5, rows[4].hash.as_str()))
    );

    h.raw(h.audit_guard_off()).await.expect("guard off");
    h.raw("UPDATE audit_log SET request_id = 'forged' WHERE seq = 4")
        .await
        .expect("tamper");
    let report = verify_log(&*h.store).await.expect("verify");
    assert_eq!(report.breaks, [ChainBreak::Altered { seq: 4 }]);
    assert_eq!(report.verified_up_to(), 3);
    // A second, independent edit further back is reported too, as is the later one.
    h.raw("UPDATE audit_log SET action = 'forged' WHERE seq = 2")
        .await
        .expect("tamper");
    let report = verify_log(&*h.store).await.expect("verify");
    assert_eq!(
        report.breaks,
        [
            ChainBreak::Altered { seq: 2 },
            ChainBreak::Altered { seq: 4 }
        ]
    );
    assert_eq!(report.verified_up_to(), 1);
    assert_eq!(report.rows, 5);
    h.raw("DELETE FROM audit_log WHERE seq = 3")
        .await
        .expect("remove");
    assert_eq!(
        verify_log(&*h.store).await.expect("verify").breaks,
        [
            ChainBreak::Altered { seq: 2 },
            ChainBreak::Gap {
                expected_seq: 3,
                found_seq: 4
            },
            ChainBreak::Altered { seq: 4 },
        ]
    );
}

pub async fn audit_listing_filters_and_pages_newest_first<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    some_history(s).await;
    let all = s.audit_after(0, 100).await.expect("audit");
    let org = all[0].org_id;
    let actor = all[0].actor_id;
    let mut seqs = Vec::new();
    let mut req = PageRequest::<i64>::new(2, None).expect("page");
    loop {
        let page = s
            .list_audit(&AuditFilter::default(), &req)
            .await
            .expect("list");
        seqs.extend(page.items.iter().map(|e| e.seq));
        match page.next {
            Some(n) => req = PageRequest::new(2, Some(n)).expect("page"),
            None => break,
        }
    }
    assert_eq!(seqs, [5, 4, 3, 2, 1]);
    let list = |f: AuditFilter| async move {
        s.list_audit(&f, &PageRequest::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(AuditFilter {
            action: Some("test.event".into()),
            ..Default::default()
        })
        .await,
        [5, 4, 3]
    );
    assert_eq!(
        list(AuditFilter {
            resource_id: Some("t1".into()),
            org_id: org,
            actor_id: actor,
            ..Default::default()
        })
        .await,
        [4]
    );
    assert_eq!(
        list(AuditFilter {
            since: Some(at(3)),
            until: Some(at(4)),
            ..Default::default()
        })
        .await,
        [4]
    );
    assert!(
        list(AuditFilter {
            org_id: Some(crate::OrgId::new()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
}
