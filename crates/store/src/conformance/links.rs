use super::support::{Harness, at, ctx, t0, user};
use crate::{
    LinkedChange, MemberManager, NewOrgLink, NewUser, OrgId, Role, Store, StoreError, UserId,
};

const OLD: &str = "https://issuer.test";
const NEW: &str = "https://login.new.test/v2.0";

async fn actions<S: Store>(s: &S) -> Vec<String> {
    s.audit_after(0, 1000)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

fn link(org: OrgId, claim: &str, value: &str, role: Role) -> NewOrgLink {
    NewOrgLink {
        org_id: org,
        issuer: NEW.into(),
        claim: claim.into(),
        value: value.into(),
        role,
    }
}

async fn role_in<S: Store>(s: &S, user: UserId, org: OrgId) -> Option<Role> {
    s.get_membership(org, user)
        .await
        .expect("membership")
        .map(|m| m.role)
}

pub async fn linked_identities_resolve_to_one_user<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Acme")
        .await
        .expect("org");
    let linked = s
        .link_identity(&ctx(None, 2), alice.id, NEW, "alice-new")
        .await
        .expect("link");
    assert_eq!(linked.user_id, alice.id);
    assert_eq!(linked.created_at, at(2));

    // Signing in through the new issuer is the same user, with the same orgs.
    let found = s.find_user(NEW, "alice-new").await.expect("find");
    assert_eq!(found.map(|u| u.id), Some(alice.id));
    let up = s
        .upsert_user(
            &NewUser {
                issuer: NEW.into(),
                sub: "alice-new".into(),
                username: None,
                email: Some("alice@new.test".into()),
                seen: true,
            },
            at(3),
        )
        .await
        .expect("sign in through the new issuer");
    assert!(!up.created);
    assert_eq!(up.user.id, alice.id);
    assert_eq!(up.user.last_seen_at, Some(at(3)));
    // The user keeps the identity they were created with.
    assert_eq!(
        (up.user.issuer.as_str(), up.user.sub.as_str()),
        (OLD, "alice")
    );
    let orgs = s.memberships_of_user(up.user.id).await.expect("orgs");
    assert_eq!(orgs.len(), 1);
    assert_eq!((orgs[0].org_id, orgs[0].role), (org.id, Role::Owner));

    let ids = s.identities_of_user(alice.id).await.expect("identities");
    let pairs: Vec<_> = ids
        .iter()
        .map(|i| (i.issuer.as_str(), i.sub.as_str()))
        .collect();
    assert_eq!(pairs, [(OLD, "alice"), (NEW, "alice-new")]);
    assert_eq!(ids[0].created_at, t0());

    let audit = s.audit_after(0, 100).await.expect("audit");
    let row = audit
        .iter()
        .find(|e| e.action == "identity.link")
        .expect("identity.link row");
    assert_eq!(row.resource_type, "user");
    assert_eq!(row.resource_id, Some(alice.id.to_string()));
    assert_eq!(row.changes["sub"]["after"], "alice-new");
    assert_eq!(row.changes["issuer"]["after"], NEW);
}

pub async fn a_taken_identity_is_not_linked_again<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = user(s, "alice").await;
    let bob = user(s, "bob").await;
    let before = actions(s).await.len();
    for (who, iss, sub) in [
        (alice.id, OLD, "bob"),
        (bob.id, OLD, "bob"),
        (alice.id, OLD, "alice"),
    ] {
        assert!(
            matches!(
                s.link_identity(&ctx(None, 2), who, iss, sub).await,
                Err(StoreError::Conflict(_))
            ),
            "{iss} {sub}"
        );
    }
    s.link_identity(&ctx(None, 3), bob.id, NEW, "shared")
        .await
        .expect("first link");
    assert!(matches!(
        s.link_identity(&ctx(None, 4), alice.id, NEW, "shared")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.link_identity(&ctx(None, 4), UserId::new(), NEW, "nobody")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.link_identity(&ctx(None, 4), alice.id, "", "x").await,
        Err(StoreError::Invalid(_))
    ));
    // Only the one link that happened is audited; the new identity stays bob's.
    assert_eq!(actions(s).await.len(), before + 1);
    let shared = s.find_user(NEW, "shared").await.expect("find");
    assert_eq!(shared.map(|u| u.id), Some(bob.id));
}

pub async fn org_links_are_upserted_per_claim_value<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let owner = user(s, "owner").await;
    let org = s
        .create_org(&ctx(Some(owner.id), 1), owner.id, "Acme")
        .await
        .expect("org");
    let first = s
        .set_org_link(&ctx(None, 2), &link(org.id, "tid", "T1", Role::Member))
        .await
        .expect("link");
    assert_eq!(first.updated_at, at(2));
    s.set_org_link(&ctx(None, 3), &link(org.id, "tid", "T1", Role::Admin))
        .await
        .expect("change the role");
    s.set_org_link(&ctx(None, 4), &link(org.id, "groups", "ops", Role::Viewer))
        .await
        .expect("second link");
    let links = s.list_org_links(org.id).await.expect("list");
    let got: Vec<_> = links
        .iter()
        .map(|l| (l.claim.as_str(), l.value.as_str(), l.role))
        .collect();
    assert_eq!(
        got,
        [("groups", "ops", Role::Viewer), ("tid", "T1", Role::Admin)]
    );
    assert!(matches!(
        s.set_org_link(&ctx(None, 5), &link(org.id, "tid", "T9", Role::Owner))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.set_org_link(
            &ctx(None, 5),
            &link(OrgId::new(), "tid", "T9", Role::Member)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let audit = s.audit_after(0, 100).await.expect("audit");
    let rows: Vec<_> = audit.iter().filter(|e| e.action == "org.link").collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].changes["role"]["before"], "member");
    assert_eq!(rows[1].changes["role"]["after"], "admin");
    assert_eq!(rows[1].org_id, Some(org.id));
}

pub async fn links_make_and_take_away_only_their_memberships<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let owner = user(s, "owner").await;
    let carol = user(s, "carol").await;
    let linked_org = s
        .create_org(&ctx(Some(owner.id), 1), owner.id, "Linked")
        .await
        .expect("org");
    let manual_org = s
        .create_org(&ctx(Some(owner.id), 1), owner.id, "By hand")
        .await
        .expect("org");
    s.add_member(
        &ctx(Some(owner.id), 2),
        MemberManager::Member(owner.id),
        manual_org.id,
        carol.id,
        Role::Viewer,
    )
    .await
    .expect("hand-made membership");
    for org in [linked_org.id, manual_org.id] {
        s.set_org_link(&ctx(None, 3), &link(org, "tid", "T1", Role::Member))
            .await
            .expect("link");
    }
    s.set_org_link(
        &ctx(None, 3),
        &link(linked_org.id, "groups", "ops", Role::Admin),
    )
    .await
    .expect("link");

    let tid = [("tid", "T1"), ("email", "carol@x.test")];
    let done = s
        .apply_links(&ctx(Some(carol.id), 4), carol.id, NEW, &tid)
        .await
        .expect("apply");
    assert_eq!(
        done,
        [LinkedChange {
            org_id: linked_org.id,
            role: Some(Role::Member)
        }]
    );
    assert_eq!(
        role_in(s, carol.id, linked_org.id).await,
        Some(Role::Member)
    );
    assert_eq!(
        role_in(s, carol.id, manual_org.id).await,
        Some(Role::Viewer)
    );

    // Nothing to change writes nothing.
    let n = actions(s).await.len();
    let again = s
        .apply_links(&ctx(Some(carol.id), 5), carol.id, NEW, &tid)
        .await
        .expect("apply again");
    assert!(again.is_empty());
    assert_eq!(actions(s).await.len(), n);

    // The strongest matching link wins.
    let both = [("tid", "T1"), ("groups", "dev"), ("groups", "ops")];
    s.apply_links(&ctx(Some(carol.id), 6), carol.id, NEW, &both)
        .await
        .expect("apply");
    assert_eq!(role_in(s, carol.id, linked_org.id).await, Some(Role::Admin));

    // A token of another issuer does not judge this issuer's links.
    let other = s
        .apply_links(&ctx(Some(carol.id), 7), carol.id, OLD, &[])
        .await
        .expect("apply");
    assert!(other.is_empty());
    assert_eq!(role_in(s, carol.id, linked_org.id).await, Some(Role::Admin));

    // The claim is gone: the link's membership goes, the hand-made one stays.
    let gone = s
        .apply_links(&ctx(Some(carol.id), 8), carol.id, NEW, &[("tid", "T2")])
        .await
        .expect("apply");
    assert_eq!(
        gone,
        [LinkedChange {
            org_id: linked_org.id,
            role: None
        }]
    );
    assert_eq!(role_in(s, carol.id, linked_org.id).await, None);
    assert_eq!(
        role_in(s, carol.id, manual_org.id).await,
        Some(Role::Viewer)
    );

    let audit = s.audit_after(0, 100).await.expect("audit");
    let mine: Vec<_> = audit
        .iter()
        .filter(|e| {
            e.action.starts_with("membership.")
                && e.org_id == Some(linked_org.id)
                && e.resource_id == Some(carol.id.to_string())
        })
        .map(|e| (e.action.as_str(), e.changes.clone()))
        .collect();
    assert_eq!(mine.len(), 3);
    assert_eq!(mine[0].0, "membership.linked");
    assert_eq!(mine[0].1["role"]["after"], "member");
    assert_eq!(mine[1].0, "membership.linked");
    assert_eq!(mine[1].1["role"]["before"], "member");
    assert_eq!(mine[1].1["role"]["after"], "admin");
    assert_eq!(mine[2].0, "membership.unlinked");
    assert_eq!(mine[2].1["role"]["before"], "admin");
    assert!(audit.iter().all(|e| e.resource_id.is_some()));

    // A role set by hand makes the membership hand-made: links leave it alone from then on.
    s.apply_links(&ctx(Some(carol.id), 9), carol.id, NEW, &tid)
        .await
        .expect("apply");
    s.set_member_role(
        &ctx(Some(owner.id), 10),
        MemberManager::Member(owner.id),
        linked_org.id,
        carol.id,
        Role::Viewer,
    )
    .await
    .expect("by hand");
    let none = s
        .apply_links(&ctx(Some(carol.id), 11), carol.id, NEW, &[])
        .await
        .expect("apply");
    assert!(none.is_empty());
    assert_eq!(
        role_in(s, carol.id, linked_org.id).await,
        Some(Role::Viewer)
    );
}

pub async fn concurrent_first_requests_link_once<S: Store + 'static>(h: &Harness<S>) {
    const N: usize = 16;
    let s = &*h.store;
    let owner = user(s, "owner").await;
    let dana = user(s, "dana").await;
    let org = s
        .create_org(&ctx(Some(owner.id), 1), owner.id, "Linked")
        .await
        .expect("org");
    s.set_org_link(&ctx(None, 2), &link(org.id, "tid", "T1", Role::Member))
        .await
        .expect("link");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let store = std::sync::Arc::clone(&h.store);
        tasks.spawn(async move {
            store
                .apply_links(&ctx(Some(dana.id), 3), dana.id, NEW, &[("tid", "T1")])
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task")
            .expect("every concurrent apply succeeds");
    }
    let linked = actions(s)
        .await
        .into_iter()
        .filter(|a| a == "membership.linked")
        .count();
    assert_eq!(linked, 1, "one membership, audited once");
    assert_eq!(role_in(s, dana.id, org.id).await, Some(Role::Member));
}
