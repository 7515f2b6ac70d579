use super::support::{Harness, ctx, user};
use crate::{MemberManager, PageRequest, Role, Store, StoreError};
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
        .add_member(
            &ctx(Some(alice.id), 2),
            MemberManager::Member(alice.id),
            org.id,
            bob.id,
            Role::Viewer,
        )
        .await
        .expect("add");
    assert_eq!(
        (m.org_id, m.user_id, m.role),
        (org.id, bob.id, Role::Viewer)
    );
    assert!(matches!(
        s.add_member(
            &ctx(Some(alice.id), 3),
            MemberManager::Member(alice.id),
            org.id,
            bob.id,
            Role::Admin
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let changed = s
        .set_member_role(
            &ctx(Some(alice.id), 4),
            MemberManager::Member(alice.id),
            org.id,
            bob.id,
            Role::Admin,
        )
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
    s.remove_member(
        &ctx(Some(alice.id), 5),
        MemberManager::Member(alice.id),
        org.id,
        bob.id,
    )
    .await
    .expect("remove");
    assert_eq!(s.get_membership(org.id, bob.id).await.expect("get"), None);
    assert!(matches!(
        s.remove_member(
            &ctx(Some(alice.id), 6),
            MemberManager::Member(alice.id),
            org.id,
            bob.id
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_member_role(
            &ctx(Some(alice.id), 6),
            MemberManager::Member(alice.id),
            org.id,
            bob.id,
            Role::Member
        )
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
        s.add_member(
            &ctx(Some(owner.id), 2),
            MemberManager::Member(owner.id),
            org.id,
            u.id,
            Role::Member,
        )
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
        s.set_member_role(
            &ctx(Some(alice.id), 2),
            MemberManager::Member(alice.id),
            org.id,
            alice.id,
            Role::Admin
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.remove_member(
            &ctx(Some(alice.id), 2),
            MemberManager::Member(alice.id),
            org.id,
            alice.id
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    s.add_member(
        &ctx(Some(alice.id), 3),
        MemberManager::Member(alice.id),
        org.id,
        bob.id,
        Role::Owner,
    )
    .await
    .expect("second owner");
    s.set_member_role(
        &ctx(Some(bob.id), 4),
        MemberManager::Member(bob.id),
        org.id,
        alice.id,
        Role::Admin,
    )
    .await
    .expect("with two owners one may step down");
    assert!(matches!(
        s.remove_member(
            &ctx(Some(bob.id), 5),
            MemberManager::Member(bob.id),
            org.id,
            bob.id
        )
        .await,
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

/// Admin X decides to demote B while B is a member; meanwhile owner O promotes B to owner.
/// X's change, decided on what X read before, arrives after the promotion: the store re-reads
/// B's role and X's own under the org lock and refuses X (only owners take ownership away).
/// O may then step down, and the org keeps B as its owner.
pub async fn member_changes_are_decided_on_locked_rows<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let owner = user(s, "owner").await;
    let admin = user(s, "admin").await;
    let bob = user(s, "bob").await;
    let org = s
        .create_org(&ctx(Some(owner.id), 1), owner.id, "Acme")
        .await
        .expect("org");
    let by_owner = MemberManager::Member(owner.id);
    let by_admin = MemberManager::Member(admin.id);
    s.add_member(
        &ctx(Some(owner.id), 2),
        by_owner,
        org.id,
        admin.id,
        Role::Admin,
    )
    .await
    .expect("admin");
    s.add_member(
        &ctx(Some(owner.id), 3),
        by_owner,
        org.id,
        bob.id,
        Role::Member,
    )
    .await
    .expect("bob");
    // What the admin saw when deciding: bob is a member, which admins may demote.
    let seen = s.get_membership(org.id, bob.id).await.expect("get");
    assert_eq!(seen.map(|m| m.role), Some(Role::Member));

    s.set_member_role(
        &ctx(Some(owner.id), 4),
        by_owner,
        org.id,
        bob.id,
        Role::Owner,
    )
    .await
    .expect("promote");
    assert!(matches!(
        s.set_member_role(
            &ctx(Some(admin.id), 5),
            by_admin,
            org.id,
            bob.id,
            Role::Viewer
        )
        .await,
        Err(StoreError::Forbidden(_))
    ));
    s.set_member_role(
        &ctx(Some(owner.id), 6),
        by_owner,
        org.id,
        owner.id,
        Role::Member,
    )
    .await
    .expect("with two owners one may step down");
    assert!(matches!(
        s.remove_member(&ctx(Some(admin.id), 6), by_admin, org.id, bob.id)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let owners: Vec<_> = s
        .list_members(org.id, &PageRequest::new(100, None).expect("page"))
        .await
        .expect("list")
        .items
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .map(|m| m.user_id)
        .collect();
    assert_eq!(owners, [bob.id], "the org keeps its owner");

    // The manager's own role is read at the change too: once demoted to member, the former
    // admin manages nobody, whatever role they held when they started.
    s.set_member_role(
        &ctx(Some(bob.id), 7),
        MemberManager::Member(bob.id),
        org.id,
        admin.id,
        Role::Member,
    )
    .await
    .expect("demote the admin");
    assert!(matches!(
        s.set_member_role(
            &ctx(Some(admin.id), 8),
            by_admin,
            org.id,
            owner.id,
            Role::Viewer
        )
        .await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        s.add_member(
            &ctx(Some(admin.id), 8),
            by_admin,
            org.id,
            user(s, "carol").await.id,
            Role::Viewer
        )
        .await,
        Err(StoreError::Forbidden(_))
    ));
    // Admins grant only roles below their own; platform admins every role.
    s.set_member_role(
        &ctx(Some(bob.id), 9),
        MemberManager::Member(bob.id),
        org.id,
        admin.id,
        Role::Admin,
    )
    .await
    .expect("admin again");
    assert!(matches!(
        s.set_member_role(
            &ctx(Some(admin.id), 10),
            by_admin,
            org.id,
            owner.id,
            Role::Admin
        )
        .await,
        Err(StoreError::Forbidden(_))
    ));
    s.set_member_role(
        &ctx(Some(admin.id), 11),
        by_admin,
        org.id,
        owner.id,
        Role::Viewer,
    )
    .await
    .expect("admins manage roles below their own");
    s.set_member_role(
        &ctx(None, 12),
        MemberManager::PlatformAdmin,
        org.id,
        owner.id,
        Role::Owner,
    )
    .await
    .expect("platform admins grant ownership");
    // Someone who is not a member manages nothing, and learns nothing either.
    let stranger = user(s, "stranger").await;
    assert!(matches!(
        s.remove_member(
            &ctx(Some(stranger.id), 13),
            MemberManager::Member(stranger.id),
            org.id,
            bob.id
        )
        .await,
        Err(StoreError::NotFound)
    ));
}
