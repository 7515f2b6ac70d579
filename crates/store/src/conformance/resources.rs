use super::support::{Harness, at, ctx, user};
use crate::{
    NewResource, Org, PageRequest, Resource, ResourceFilter, ResourceId, ResourcePatch, Role,
    Store, StoreError, User,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

async fn org_with_owner<S: Store>(s: &S, name: &str) -> (User, Org) {
    let owner = user(s, &format!("{name}-owner")).await;
    let org = s
        .create_org(&ctx(Some(owner.id), 0), owner.id, name)
        .await
        .expect("org");
    (owner, org)
}

fn new(org: &Org, owner: &User, kind: &str, name: &str, data: Value) -> NewResource {
    NewResource {
        org_id: org.id,
        owner_id: owner.id,
        kind: kind.into(),
        name: name.into(),
        data,
    }
}

async fn all_pages<S: Store>(
    s: &S,
    org: &Org,
    filter: &ResourceFilter,
    size: u32,
) -> Vec<Resource> {
    let mut out = Vec::new();
    let mut req = PageRequest::new(size, None).expect("page");
    loop {
        let page = s.list_resources(org.id, filter, &req).await.expect("list");
        assert!(page.items.len() <= size as usize);
        out.extend(page.items);
        match page.next {
            Some(next) => req = PageRequest::new(size, Some(next)).expect("page"),
            None => return out,
        }
    }
}

pub async fn resources_round_trip_exactly<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let data = json!({"nested": {"list": [1, 2.5, "three", null, true]}, "unicode": "é☃"});
    let r = s
        .create_resource(
            &ctx(Some(owner.id), 1),
            &new(&org, &owner, "doc", "Plan", data.clone()),
        )
        .await
        .expect("create");
    assert_eq!(r.version, 1);
    assert_eq!(r.data, data);
    assert_eq!(r.created_at, at(1));
    assert_eq!(r.updated_at, at(1));
    assert_eq!((r.deleted_at, r.deleted_by), (None, None));
    assert_eq!(
        s.get_resource(org.id, r.id, false).await.expect("get"),
        Some(r.clone())
    );
    let log = s.audit_after(0, 100).await.expect("audit");
    let last = log.last().expect("audit row");
    assert_eq!(last.action, "resource.create");
    assert_eq!(last.resource_id.as_deref(), Some(r.id.to_string().as_str()));
    assert_eq!(
        last.changes["name"],
        json!({"before": null, "after": "Plan"})
    );
}

pub async fn resource_versions_guard_concurrent_edits<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let r = s
        .create_resource(
            &ctx(Some(owner.id), 1),
            &new(&org, &owner, "doc", "v1", json!({"a": 1})),
        )
        .await
        .expect("create");
    let patch = ResourcePatch {
        name: Some("v2".into()),
        data: None,
    };
    let r2 = s
        .update_resource(&ctx(Some(owner.id), 2), org.id, r.id, &patch, Some(1))
        .await
        .expect("update at version 1");
    assert_eq!(
        (r2.version, r2.name.as_str(), &r2.data),
        (2, "v2", &json!({"a": 1}))
    );
    assert_eq!(r2.updated_at, at(2));
    assert_eq!(r2.created_at, at(1));
    let stale = s
        .update_resource(&ctx(Some(owner.id), 3), org.id, r.id, &patch, Some(1))
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 2 })
    ));
    let r3 = s
        .update_resource(
            &ctx(Some(owner.id), 4),
            org.id,
            r.id,
            &ResourcePatch {
                name: None,
                data: Some(json!({"a": 2})),
            },
            None,
        )
        .await
        .expect("unconditional update");
    assert_eq!(r3.version, 3);
    let log = s.audit_after(0, 100).await.expect("audit");
    let updates: Vec<&Value> = log
        .iter()
        .filter(|e| e.action == "resource.update")
        .map(|e| &e.changes)
        .collect();
    assert_eq!(
        updates,
        [
            &json!({"name": {"before": "v1", "after": "v2"}, "version": {"before": 1, "after": 2}}),
            &json!({"data": {"fields": {"a": {"before": 1, "after": 2}}}, "version": {"before": 2, "after": 3}}),
        ]
    );
}

pub async fn resources_are_isolated_per_org<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (a_owner, a) = org_with_owner(s, "a").await;
    let (b_owner, b) = org_with_owner(s, "b").await;
    let ra = s
        .create_resource(
            &ctx(Some(a_owner.id), 1),
            &new(&a, &a_owner, "doc", "secret", json!({})),
        )
        .await
        .expect("create");
    assert_eq!(s.get_resource(b.id, ra.id, true).await.expect("get"), None);
    let patch = ResourcePatch {
        name: Some("stolen".into()),
        data: None,
    };
    let ctx_b = ctx(Some(b_owner.id), 2);
    assert!(matches!(
        s.update_resource(&ctx_b, b.id, ra.id, &patch, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.soft_delete_resource(&ctx_b, b.id, ra.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        all_pages(s, &b, &ResourceFilter::default(), 10)
            .await
            .is_empty()
    );
    assert_eq!(
        s.get_resource(a.id, ra.id, false)
            .await
            .expect("get")
            .map(|r| r.name),
        Some("secret".to_owned())
    );
}

pub async fn resource_pages_are_ordered_without_gaps_or_duplicates<S: Store + 'static>(
    h: &Harness<S>,
) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let mut ids = Vec::new();
    for i in 0..45 {
        let r = s
            .create_resource(
                &ctx(Some(owner.id), i),
                &new(&org, &owner, "doc", &format!("r{i}"), json!({ "i": i })),
            )
            .await
            .expect("create");
        ids.push(r.id);
    }
    let mut sorted = ids.clone();
    sorted.sort();
    for size in [1, 7, 10, 45, 100] {
        let got: Vec<ResourceId> = all_pages(s, &org, &ResourceFilter::default(), size)
            .await
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(got, sorted, "page size {size}");
    }
    // UUIDv7 ids are time-ordered, so id order is creation order.
    assert_eq!(ids, sorted);
    let first = s
        .list_resources(
            org.id,
            &ResourceFilter::default(),
            &PageRequest::new(45, None).expect("p"),
        )
        .await
        .expect("list");
    assert_eq!(first.items.len(), 45);
    assert_eq!(
        first.next, None,
        "no next cursor when the page holds the last row"
    );
}

pub async fn resource_paging_is_stable_under_concurrent_inserts<S: Store + 'static>(
    h: &Harness<S>,
) {
    let s = Arc::clone(&h.store);
    let (owner, org) = org_with_owner(&*s, "busy").await;
    let mut existing = HashSet::new();
    for i in 0..60 {
        let r = s
            .create_resource(
                &ctx(Some(owner.id), i),
                &new(&org, &owner, "doc", "x", json!(i)),
            )
            .await
            .expect("create");
        existing.insert(r.id);
    }
    let writer = {
        let s = Arc::clone(&s);
        let (owner, org) = (owner.clone(), org.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                s.create_resource(
                    &ctx(Some(owner.id), 100 + i),
                    &new(&org, &owner, "doc", "y", json!(i)),
                )
                .await
                .expect("concurrent create");
                tokio::task::yield_now().await;
            }
        })
    };
    let seen = all_pages(&*s, &org, &ResourceFilter::default(), 7).await;
    writer.await.expect("writer");
    let ids: Vec<ResourceId> = seen.iter().map(|r| r.id).collect();
    let unique: HashSet<ResourceId> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no row is listed twice");
    assert!(
        existing.is_subset(&unique),
        "no row that existed before paging is skipped"
    );
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids strictly ascending"
    );
}

pub async fn resource_filters_select_kind_and_owner<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let other = user(s, "other").await;
    s.add_member(
        &ctx(Some(owner.id), 1),
        crate::MemberManager::Member(owner.id),
        org.id,
        other.id,
        Role::Member,
    )
    .await
    .expect("add");
    let mut docs = Vec::new();
    for (i, (kind, who)) in [
        ("doc", &owner),
        ("img", &owner),
        ("doc", &other),
        ("img", &other),
    ]
    .into_iter()
    .enumerate()
    {
        let r = s
            .create_resource(
                &ctx(Some(who.id), i as i64),
                &new(&org, who, kind, "n", json!({})),
            )
            .await
            .expect("create");
        docs.push(r);
    }
    let by_kind = all_pages(
        s,
        &org,
        &ResourceFilter {
            kind: Some("doc".into()),
            ..Default::default()
        },
        10,
    )
    .await;
    assert_eq!(
        by_kind.iter().map(|r| r.id).collect::<Vec<_>>(),
        [docs[0].id, docs[2].id]
    );
    let by_owner = all_pages(
        s,
        &org,
        &ResourceFilter {
            owner_id: Some(other.id),
            kind: Some("img".into()),
            include_deleted: false,
        },
        10,
    )
    .await;
    assert_eq!(
        by_owner.iter().map(|r| r.id).collect::<Vec<_>>(),
        [docs[3].id]
    );
}

pub async fn soft_delete_restore_and_purge_of_resources<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let keep = s
        .create_resource(
            &ctx(Some(owner.id), 1),
            &new(&org, &owner, "doc", "keep", json!({})),
        )
        .await
        .expect("create");
    let gone = s
        .create_resource(
            &ctx(Some(owner.id), 1),
            &new(&org, &owner, "doc", "gone", json!({})),
        )
        .await
        .expect("create");
    let late = s
        .create_resource(
            &ctx(Some(owner.id), 1),
            &new(&org, &owner, "doc", "late", json!({})),
        )
        .await
        .expect("create");
    let deleted = s
        .soft_delete_resource(&ctx(Some(owner.id), 10), org.id, gone.id)
        .await
        .expect("delete");
    assert_eq!(
        (deleted.deleted_at, deleted.deleted_by, deleted.version),
        (Some(at(10)), Some(owner.id), 2)
    );
    assert_eq!(
        s.get_resource(org.id, gone.id, false).await.expect("get"),
        None
    );
    assert_eq!(
        s.get_resource(org.id, gone.id, true).await.expect("get"),
        Some(deleted.clone())
    );
    let live: Vec<ResourceId> = all_pages(s, &org, &ResourceFilter::default(), 10)
        .await
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(live, [keep.id, late.id]);
    let everything = all_pages(
        s,
        &org,
        &ResourceFilter {
            include_deleted: true,
            ..Default::default()
        },
        10,
    )
    .await;
    assert_eq!(everything.len(), 3);
    assert!(matches!(
        s.update_resource(
            &ctx(Some(owner.id), 11),
            org.id,
            gone.id,
            &ResourcePatch::default(),
            None
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.soft_delete_resource(&ctx(Some(owner.id), 11), org.id, gone.id)
            .await,
        Err(StoreError::NotFound)
    ));
    let restored = s
        .restore_resource(&ctx(Some(owner.id), 12), org.id, gone.id)
        .await
        .expect("restore");
    assert_eq!(
        (restored.deleted_at, restored.deleted_by, restored.version),
        (None, None, 3)
    );
    assert!(matches!(
        s.restore_resource(&ctx(Some(owner.id), 13), org.id, gone.id)
            .await,
        Err(StoreError::NotFound)
    ));
    s.soft_delete_resource(&ctx(Some(owner.id), 20), org.id, gone.id)
        .await
        .expect("delete again");
    s.soft_delete_resource(&ctx(Some(owner.id), 100), org.id, late.id)
        .await
        .expect("delete late");
    let purged = s
        .purge_resources(&ctx(None, 200), at(50))
        .await
        .expect("purge");
    assert_eq!(purged, 1, "only rows deleted before the cutoff go");
    assert_eq!(
        s.get_resource(org.id, gone.id, true).await.expect("get"),
        None
    );
    assert!(
        s.get_resource(org.id, late.id, true)
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        s.get_resource(org.id, keep.id, false)
            .await
            .expect("get")
            .is_some()
    );
    let actions: Vec<String> = s
        .audit_after(0, 100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.resource_id.as_deref() == Some(gone.id.to_string().as_str()))
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "resource.create",
            "resource.delete",
            "resource.restore",
            "resource.delete",
            "resource.purge"
        ]
    );
}

pub async fn invalid_input_is_refused_before_sql<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let c = ctx(Some(owner.id), 1);
    for bad in [
        new(&org, &owner, "Doc", "n", json!({})),
        new(&org, &owner, "doc", "", json!({})),
        new(&org, &owner, "doc", "nul\0name", json!({})),
        new(&org, &owner, "doc", "n", json!({"k": "nul\u{0}"})),
    ] {
        assert!(matches!(
            s.create_resource(&c, &bad).await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(matches!(
        s.create_org(&c, owner.id, " ").await,
        Err(StoreError::Invalid(_))
    ));
    let missing_org = Org {
        id: crate::OrgId::new(),
        ..org.clone()
    };
    assert!(matches!(
        s.create_resource(&c, &new(&missing_org, &owner, "doc", "n", json!({})))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(PageRequest::<uuid::Uuid>::new(0, None).is_err());
    assert!(PageRequest::<uuid::Uuid>::new(101, None).is_err());
    // Nothing above reached the audit log.
    let log = s.audit_after(0, 100).await.expect("audit");
    assert_eq!(
        log.len(),
        2,
        "only the org creation and its owner membership"
    );
}

/// Audit rows of resource changes hold what changed: for an update only the changed top-level
/// fields of `data`, and a large value as its SHA-256 and size, never two full copies. The
/// chain over those rows still verifies.
pub async fn resource_audit_rows_keep_a_diff_not_copies<S: Store + 'static>(h: &Harness<S>) {
    use crate::audit_chain::{canonical_json, verify_log};
    use sha2::{Digest, Sha256};
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    let body = "x".repeat(100 * 1024);
    let data = json!({"title": "draft", "body": body, "tags": ["a"]});
    let r = s
        .create_resource(
            &ctx(Some(owner.id), 1),
            &new(&org, &owner, "doc", "Big", data.clone()),
        )
        .await
        .expect("create");
    let digest = |v: &Value| {
        let text = canonical_json(v);
        json!({"sha256": hex::encode(Sha256::digest(text.as_bytes())), "bytes": text.len()})
    };
    let rows = |action: &'static str| async move {
        s.audit_after(0, 100)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == action)
            .map(|e| e.changes)
            .collect::<Vec<Value>>()
    };
    let created = rows("resource.create").await;
    assert_eq!(
        created[0]["data"],
        json!({"before": null, "after": digest(&data)})
    );
    assert_eq!(created[0]["name"], json!({"before": null, "after": "Big"}));

    let changed = json!({"title": "final", "body": body, "tags": ["a"], "extra": 1});
    s.update_resource(
        &ctx(Some(owner.id), 2),
        org.id,
        r.id,
        &ResourcePatch {
            name: None,
            data: Some(changed),
        },
        None,
    )
    .await
    .expect("update");
    let new_body = "z".repeat(10 * 1024);
    s.update_resource(
        &ctx(Some(owner.id), 3),
        org.id,
        r.id,
        &ResourcePatch {
            name: Some("Bigger".into()),
            data: Some(json!({"title": "final", "body": new_body, "tags": ["a"], "extra": 1})),
        },
        None,
    )
    .await
    .expect("update");
    assert_eq!(
        rows("resource.update").await,
        [
            json!({
                "data": {"fields": {
                    "title": {"before": "draft", "after": "final"},
                    "extra": {"before": null, "after": 1},
                }},
                "version": {"before": 1, "after": 2},
            }),
            json!({
                "name": {"before": "Big", "after": "Bigger"},
                "data": {"fields": {
                    "body": {"before": digest(&json!(body)), "after": digest(&json!(new_body))},
                }},
                "version": {"before": 2, "after": 3},
            }),
        ]
    );
    let every = s.audit_after(0, 100).await.expect("audit");
    assert!(
        every
            .iter()
            .all(|e| canonical_json(&e.changes).len() < 2 * 1024),
        "no audit row holds a large value"
    );
    assert!(verify_log(s).await.expect("verify").is_intact());
}

/// With a byte budget, a page stops before its items pass it (one item always comes) and the
/// next key continues without loss or duplicates, on resources and on the audit log.
pub async fn pages_stop_at_a_byte_budget<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let (owner, org) = org_with_owner(s, "acme").await;
    for i in 0..6 {
        s.create_resource(
            &ctx(Some(owner.id), i),
            &new(
                &org,
                &owner,
                "doc",
                &format!("r{i}"),
                json!({"text": "x".repeat(1000)}),
            ),
        )
        .await
        .expect("create");
    }
    let budget = 3000;
    let mut seen = Vec::new();
    let mut req = PageRequest::new(100, None)
        .expect("page")
        .with_max_bytes(budget);
    let mut pages = 0;
    loop {
        let page = s
            .list_resources(org.id, &ResourceFilter::default(), &req)
            .await
            .expect("list");
        pages += 1;
        let bytes: usize = page
            .items
            .iter()
            .map(|r| crate::page::json_len(r) + 1)
            .sum();
        assert!(bytes <= budget || page.items.len() == 1, "{bytes}");
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(n) => {
                req = PageRequest::new(100, Some(n))
                    .expect("page")
                    .with_max_bytes(budget);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3, "two resources of about 1.3 KiB per 3 KB page");
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (6, 6));

    let first = s
        .list_audit(
            &crate::AuditFilter::default(),
            &PageRequest::new(100, None).expect("page").with_max_bytes(1),
        )
        .await
        .expect("audit");
    assert_eq!(first.items.len(), 1, "one item even over the budget");
    assert_eq!(first.next, Some(first.items[0].seq));
}
