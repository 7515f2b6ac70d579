use super::support::{Harness, at, ctx, user};
use crate::{FlagKey, MemberManager, NewResource, RevocationKind, RevokedToken, Role, Store};
use serde_json::json;

/// The audit log read as the change feed: the head is the newest row, and the security rows of
/// a range come back oldest first, without resource or org-create rows.
pub async fn change_feed_lists_security_changes_in_order<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    assert_eq!(s.audit_head().await.expect("head"), 0, "an empty log");
    let alice = user(s, "alice").await;
    let bob = user(s, "bob").await;
    let org = s
        .create_org(&ctx(Some(alice.id), 1), alice.id, "Acme")
        .await
        .expect("org");
    let start = s.audit_head().await.expect("head");
    s.create_resource(
        &ctx(Some(alice.id), 2),
        &NewResource {
            org_id: org.id,
            owner_id: alice.id,
            kind: "doc".into(),
            name: "not a security change".into(),
            data: json!({}),
        },
    )
    .await
    .expect("resource");
    s.add_member(
        &ctx(Some(alice.id), 3),
        MemberManager::Member(alice.id),
        org.id,
        bob.id,
        Role::Viewer,
    )
    .await
    .expect("member");
    s.revoke_token(
        &ctx(None, 4),
        &RevokedToken {
            kind: RevocationKind::OriginJti,
            value: "session-1".into(),
            expires_at: at(100),
        },
    )
    .await
    .expect("revoke");
    s.revoke_user_sessions(&ctx(None, 5), bob.id, at(5))
        .await
        .expect("cutoff");
    s.set_user_disabled(&ctx(None, 6), bob.id, true)
        .await
        .expect("disable");
    s.set_flag(
        &ctx(None, 7),
        &FlagKey {
            name: "mfa.required".into(),
            org_id: None,
        },
        &json!(true),
    )
    .await
    .expect("flag");
    s.soft_delete_org(&ctx(Some(alice.id), 8), org.id)
        .await
        .expect("delete org");
    let head = s.audit_head().await.expect("head");
    assert_eq!(head, start + 7, "one row per change");

    let rows = s.security_changes(start, head, 100).await.expect("changes");
    let seen: Vec<String> = rows
        .iter()
        .map(|e| format!("{} {}", e.action, e.resource_type))
        .collect();
    assert_eq!(
        seen,
        [
            "membership.add membership",
            "session.revoke origin_jti",
            "session.revoke_all user",
            "user.disable user",
            "flag.set flag",
            "org.delete org",
        ]
    );
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    // The range is half-open at the bottom and closed at the top, and the limit holds.
    let later = s
        .security_changes(rows[1].seq, rows[3].seq, 100)
        .await
        .expect("changes");
    assert_eq!(
        later.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [rows[2].seq, rows[3].seq]
    );
    let first = s.security_changes(start, head, 2).await.expect("changes");
    assert_eq!(first.len(), 2);
    assert_eq!(first[1].seq, rows[1].seq);
    assert!(
        s.security_changes(head, head + 10, 100)
            .await
            .expect("changes")
            .is_empty()
    );
}
