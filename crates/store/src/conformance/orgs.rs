use super::support::{Harness, at, ctx, user};
use crate::{AuditFilter, NewResource, PageRequest, ResourceFilter, Role, Store, StoreError};
use serde_json::json;

pub async fn creating_an_org_makes_the_creator_owner<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Acme")
        .await
        .expect("create org");
    assert_eq!(org.name, "Acme");
    assert_eq!(org.created_by, alice.id);
    assert_eq!(org.created_at, at(1));
    assert_eq!(
        s.get_org(org.id, false).await.expect("get"),
        Some(org.clone())
    );
    let m = s
        .get_membership(org.id, alice.id)
        .await
        .expect("membership")
        .expect("owner membership exists");
    assert_eq!(m.role, Role::Owner);
    let mine = s.memberships_of_user(alice.id).await.expect("mine");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].org_name, "Acme");
    assert_eq!(mine[0].role, Role::Owner);
    let log = s.audit_after(0, 10).await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["org.create", "membership.add"]);
    assert!(
        log.iter()
            .all(|e| e.org_id == Some(org.id) && e.request_id == "req-1")
    );
    assert_eq!(
        log[0].changes,
        json!({"name": {"before": null, "after": "Acme"}})
    );
}

pub async fn soft_deleted_orgs_are_hidden_until_restored<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Gone")
        .await
        .expect("create");
    let deleted = s
        .soft_delete_org(&ctx(Some(alice.id), 2), org.id)
        .await
        .expect("delete");
    assert_eq!(deleted.deleted_at, Some(at(2)));
    assert_eq!(deleted.deleted_by, Some(alice.id));
    assert_eq!(s.get_org(org.id, false).await.expect("get"), None);
    assert_eq!(s.get_org(org.id, true).await.expect("get"), Some(deleted));
    assert!(
        s.memberships_of_user(alice.id)
            .await
            .expect("mine")
            .is_empty()
    );
    assert!(
        s.get_membership(org.id, alice.id)
            .await
            .expect("m")
            .is_none()
    );
    let page = s
        .list_orgs_for_user(alice.id, &PageRequest::default())
        .await
        .expect("list");
    assert!(page.items.is_empty());
    assert!(matches!(
        s.soft_delete_org(&ctx(Some(alice.id), 3), org.id).await,
        Err(StoreError::NotFound)
    ));
    // Nothing can be added to a deleted org.
    assert!(matches!(
        s.add_member(
            &ctx(Some(alice.id), 3),
            crate::MemberManager::Member(alice.id),
            org.id,
            user(s, "bob").await.id,
            Role::Member
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let restored = s
        .restore_org(&ctx(Some(alice.id), 4), org.id)
        .await
        .expect("restore");
    assert_eq!(restored.deleted_at, None);
    assert_eq!(restored.deleted_by, None);
    assert_eq!(
        s.memberships_of_user(alice.id).await.expect("mine").len(),
        1
    );
    assert!(matches!(
        s.restore_org(&ctx(Some(alice.id), 5), org.id).await,
        Err(StoreError::NotFound)
    ));
    let actions: Vec<String> = s
        .list_audit(
            &AuditFilter {
                org_id: Some(org.id),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["org.restore", "org.delete", "membership.add", "org.create"]
    );
}

pub async fn orgs_of_a_user_page_in_id_order<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let org = s
            .create_org(&ctx(Some(alice.id), i), alice.id, &format!("org {i}"))
            .await
            .expect("create");
        ids.push(org.id);
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut req = PageRequest::new(3, None).expect("page");
    loop {
        let page = s.list_orgs_for_user(alice.id, &req).await.expect("list");
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|o| o.org.id));
        assert!(page.items.iter().all(|o| o.role == Role::Owner));
        match page.next {
            Some(next) => req = PageRequest::new(3, Some(next)).expect("page"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

pub async fn purging_orgs_removes_their_rows_but_keeps_audit<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let old = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "old")
        .await
        .expect("create");
    let recent = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "recent")
        .await
        .expect("create");
    let r = s
        .create_resource(
            &ctx(Some(alice.id), 2),
            &NewResource {
                org_id: old.id,
                owner_id: alice.id,
                kind: "doc".into(),
                name: "in old org".into(),
                data: json!({}),
            },
        )
        .await
        .expect("resource");
    s.soft_delete_org(&ctx(Some(alice.id), 10), old.id)
        .await
        .expect("delete old");
    s.soft_delete_org(&ctx(Some(alice.id), 100), recent.id)
        .await
        .expect("delete recent");
    let before_purge = s.audit_after(0, 1000).await.expect("audit").len();
    let purged = s.purge_orgs(&ctx(None, 200), at(50)).await.expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(s.get_org(old.id, true).await.expect("get"), None);
    assert!(s.get_org(recent.id, true).await.expect("get").is_some());
    assert_eq!(s.get_resource(old.id, r.id, true).await.expect("get"), None);
    let log = s.audit_after(0, 1000).await.expect("audit");
    assert_eq!(
        log.len(),
        before_purge + 1,
        "earlier audit rows survive the purge"
    );
    let last = log.last().expect("purge row");
    assert_eq!(last.action, "org.purge");
    assert_eq!(last.actor_id, None);
    let listed = s
        .list_resources(
            old.id,
            &ResourceFilter {
                include_deleted: true,
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .expect("list");
    assert!(listed.items.is_empty());
}

pub async fn every_live_org_is_listed_by_id<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let owner = user(s, "lister").await.id;
    let c = ctx(Some(owner), 1);
    let a = s.create_org(&c, owner, "a").await.expect("a");
    let b = s.create_org(&c, owner, "b").await.expect("b");
    let gone = s.create_org(&c, owner, "gone").await.expect("gone");
    s.soft_delete_org(&c, gone.id).await.expect("delete");
    let first = s
        .list_orgs(&PageRequest::new(1, None).expect("page"))
        .await
        .expect("first page");
    assert_eq!(
        first.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    let rest = s
        .list_orgs(&PageRequest::new(10, first.next).expect("page"))
        .await
        .expect("rest");
    assert_eq!(
        rest.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    assert!(rest.next.is_none());
}
