use super::support::{Harness, at, ctx, user};
use crate::{RevocationKind, RevokedToken, Store};

pub async fn token_revocations_expire_and_purge<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let token = RevokedToken {
        kind: RevocationKind::Jti,
        value: "jti-1".into(),
        expires_at: at(100),
    };
    s.revoke_token(&ctx(None, 1), &token).await.expect("revoke");
    s.revoke_token(&ctx(None, 2), &token)
        .await
        .expect("revoking twice is fine");
    let session = RevokedToken {
        kind: RevocationKind::OriginJti,
        value: "origin-1".into(),
        expires_at: at(1000),
    };
    s.revoke_token(&ctx(None, 3), &session)
        .await
        .expect("revoke");
    let check = |ids: Vec<(RevocationKind, &'static str)>, secs| async move {
        s.is_revoked(&ids, at(secs)).await.expect("check")
    };
    assert!(check(vec![(RevocationKind::Jti, "jti-1")], 50).await);
    // The kind is part of the key: a jti equal to a revoked origin_jti is not revoked.
    assert!(!check(vec![(RevocationKind::Jti, "origin-1")], 50).await);
    assert!(
        check(
            vec![
                (RevocationKind::Jti, "other"),
                (RevocationKind::OriginJti, "origin-1")
            ],
            50
        )
        .await
    );
    assert!(!check(vec![], 50).await);
    // After the token's own expiry the row no longer matters, and purge removes it.
    assert!(!check(vec![(RevocationKind::Jti, "jti-1")], 100).await);
    assert_eq!(
        s.purge_expired_revocations(at(100)).await.expect("purge"),
        1
    );
    assert!(check(vec![(RevocationKind::OriginJti, "origin-1")], 100).await);
    let actions: Vec<String> = s
        .audit_after(0, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.resource_type))
        .collect();
    assert_eq!(
        actions,
        [
            "session.revoke jti",
            "session.revoke jti",
            "session.revoke origin_jti"
        ]
    );
}

pub async fn user_revocation_only_moves_forward<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let u = user(s, "alice").await;
    assert_eq!(s.user_revoked_before(u.id).await.expect("get"), None);
    let t = s
        .revoke_user_sessions(&ctx(Some(u.id), 10), u.id, at(10))
        .await
        .expect("revoke");
    assert_eq!(t, at(10));
    let t = s
        .revoke_user_sessions(&ctx(Some(u.id), 11), u.id, at(5))
        .await
        .expect("revoke earlier");
    assert_eq!(t, at(10), "an earlier cutoff does not un-revoke tokens");
    let t = s
        .revoke_user_sessions(&ctx(Some(u.id), 12), u.id, at(20))
        .await
        .expect("revoke later");
    assert_eq!(t, at(20));
    assert_eq!(
        s.user_revoked_before(u.id).await.expect("get"),
        Some(at(20))
    );
}
