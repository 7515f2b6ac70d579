use super::support::{Harness, ctx, user};
use crate::{PageRequest, Role, Store, StoreError};
use serde_json::json;

pub async fn memberships_add_change_remove<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let bob = user(s, "bob").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Acme")
        .await
        .expect("org");
    let m = s
        .add_member(&ctx(Some(alice.id), 2), org.id, bob.id, Role::Viewer)
        .await
        .expect("add");
    assert_eq!(
        (m.org_id, m.user_id, m.role),
        (org.id, bob.id, Role::Viewer)
    );
    assert!(matches!(
        s.add_member(&ctx(Some(alice.id), 3), org.id, bob.id, Role::Admin)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let changed = s
        .set_member_role(&ctx(Some(alice.id), 4), org.id, bob.id, Role::Admin)
        .await
        .expect("role");
    assert_eq!(changed.role, Role::Admin);
    assert_eq!(
        s.get_membership(org.id, bob.id)
            .await
            .expect("get")
            .map(|m| m.role),
        Some(Role::Admin)
    );
    s.remove_member(&ctx(Some(alice.id), 5), org.id, bob.id)
        .await
        .expect("remove");
    assert_eq!(s.get_membership(org.id, bob.id).await.expect("get"), None);
    assert!(matches!(
        s.remove_member(&ctx(Some(alice.id), 6), org.id, bob.id)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_member_role(&ctx(Some(alice.id), 6), org.id, bob.id, Role::Member)
            .await,
        Err(StoreError::NotFound)
    ));
    let log = s.audit_after(0, 100).await.expect("audit");
    let tail: Vec<(&str, &serde_json::Value)> = log[2..]
        .iter()
        .map(|e| (e.action.as_str(), &e.changes))
        .collect();
    assert_eq!(
        tail,
        [
            (
                "membership.add",
                &json!({"role": {"before": null, "after": "viewer"}})
            ),
            (
                "membership.role",
                &json!({"role": {"before": "viewer", "after": "admin"}})
            ),
            (
                "membership.remove",
                &json!({"role": {"before": "admin", "after": null}})
            ),
        ]
    );
}

pub async fn members_page_in_user_id_order<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let owner = user(s, "owner").await;
    let org = s
        .create_org(&ctx(Some(owner.id), 1), owner.id, "Big")
        .await
        .expect("org");
    let mut expected = vec![owner.id];
    for i in 0..9 {
        let u = user(s, &format!("member-{i}")).await;
        s.add_member(&ctx(Some(owner.id), 2), org.id, u.id, Role::Member)
            .await
            .expect("add");
        expected.push(u.id);
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut req = PageRequest::new(4, None).expect("page");
    loop {
        let page = s.list_members(org.id, &req).await.expect("list");
        seen.extend(page.items.iter().map(|m| m.user_id));
        match page.next {
            Some(next) => req = PageRequest::new(4, Some(next)).expect("page"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let first = s
        .list_members(org.id, &PageRequest::new(100, None).expect("page"))
        .await
        .expect("list");
    let owner_row = first
        .items
        .iter()
        .find(|m| m.user_id == owner.id)
        .expect("owner listed");
    assert_eq!(owner_row.sub, "owner");
    assert_eq!(owner_row.username.as_deref(), Some("owner-name"));
    assert_eq!(owner_row.role, Role::Owner);
}

pub async fn the_last_owner_cannot_leave_or_be_demoted<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let bob = user(s, "bob").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Acme")
        .await
        .expect("org");
    assert!(matches!(
        s.set_member_role(&ctx(Some(alice.id), 2), org.id, alice.id, Role::Admin)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.remove_member(&ctx(Some(alice.id), 2), org.id, alice.id)
            .await,
        Err(StoreError::Conflict(_))
    ));
    s.add_member(&ctx(Some(alice.id), 3), org.id, bob.id, Role::Owner)
        .await
        .expect("second owner");
    s.set_member_role(&ctx(Some(bob.id), 4), org.id, alice.id, Role::Admin)
        .await
        .expect("with two owners one may step down");
    assert!(matches!(
        s.remove_member(&ctx(Some(bob.id), 5), org.id, bob.id).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.get_membership(org.id, bob.id)
            .await
            .expect("get")
            .map(|m| m.role),
        Some(Role::Owner)
    );
}
