use super::support::{Harness, at, ctx, t0, user};
use crate::{NewUser, Store, StoreError};
use std::sync::Arc;

fn new_user(sub: &str, username: Option<&str>, email: Option<&str>, seen: bool) -> NewUser {
    NewUser {
        issuer: "https://issuer.test".into(),
        sub: sub.into(),
        username: username.map(Into::into),
        email: email.map(Into::into),
        seen,
    }
}

pub async fn upsert_creates_once_then_updates<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let first = s
        .upsert_user(
            &new_user("alice", Some("alice"), Some("a@x.test"), true),
            t0(),
        )
        .await
        .expect("first upsert");
    assert!(first.created);
    assert_eq!(first.user.created_at, t0());
    assert_eq!(first.user.last_seen_at, Some(t0()));
    assert_eq!(first.user.disabled_at, None);

    // A later sign-in without an email keeps the one we had, and moves last_seen_at.
    let again = s
        .upsert_user(&new_user("alice", Some("alice2"), None, true), at(60))
        .await
        .expect("second upsert");
    assert!(!again.created);
    assert_eq!(again.user.id, first.user.id);
    assert_eq!(again.user.username.as_deref(), Some("alice2"));
    assert_eq!(again.user.email.as_deref(), Some("a@x.test"));
    assert_eq!(again.user.created_at, t0());
    assert_eq!(again.user.last_seen_at, Some(at(60)));

    let found = s
        .find_user("https://issuer.test", "alice")
        .await
        .expect("find");
    assert_eq!(found.as_ref(), Some(&again.user));
    assert_eq!(s.get_user(first.user.id).await.expect("get"), found);
    // Same sub at another issuer is another user.
    assert_eq!(
        s.find_user("https://other.test", "alice")
            .await
            .expect("find"),
        None
    );
}

pub async fn concurrent_first_upserts_share_one_row<S: Store + 'static>(h: &Harness<S>) {
    const N: usize = 64;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let s = Arc::clone(&h.store);
        tasks.spawn(async move {
            s.upsert_user(&new_user("racer", Some("racer"), None, true), t0())
                .await
        });
    }
    let mut ids = Vec::new();
    let mut created = 0;
    while let Some(done) = tasks.join_next().await {
        let up = done
            .expect("task")
            .expect("every concurrent upsert succeeds");
        created += usize::from(up.created);
        ids.push(up.user.id);
    }
    assert_eq!(ids.len(), N);
    assert_eq!(
        created, 1,
        "exactly one upsert reports that it created the user"
    );
    assert!(ids.iter().all(|id| *id == ids[0]), "all see the same row");
    // A no-op UPDATE reports how many rows match: the table holds exactly one.
    let rows = h
        .raw("UPDATE users SET email = email WHERE sub = 'racer'")
        .await
        .expect("count rows");
    assert_eq!(rows, 1);
    let identities = h
        .raw("UPDATE identities SET sub = sub WHERE sub = 'racer'")
        .await
        .expect("count identities");
    assert_eq!(identities, 1);
}

pub async fn preprovisioned_user_has_no_last_seen<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let pre = s
        .upsert_user(&new_user("bob", None, None, false), t0())
        .await
        .expect("pre-provision");
    assert!(pre.created);
    assert_eq!(pre.user.last_seen_at, None);
    let signed_in = s
        .upsert_user(&new_user("bob", Some("bob"), None, true), at(5))
        .await
        .expect("sign in");
    assert!(!signed_in.created);
    assert_eq!(signed_in.user.id, pre.user.id);
    assert_eq!(signed_in.user.last_seen_at, Some(at(5)));
}

pub async fn disabling_a_user_is_audited<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let admin = user(s, "admin").await;
    let target = user(s, "target").await;
    let disabled = s
        .set_user_disabled(&ctx(Some(admin.id), 10), target.id, true)
        .await
        .expect("disable");
    assert_eq!(disabled.disabled_at, Some(at(10)));
    // Disabling again keeps the original time.
    let again = s
        .set_user_disabled(&ctx(Some(admin.id), 20), target.id, true)
        .await
        .expect("disable again");
    assert_eq!(again.disabled_at, Some(at(10)));
    let enabled = s
        .set_user_disabled(&ctx(Some(admin.id), 30), target.id, false)
        .await
        .expect("enable");
    assert_eq!(enabled.disabled_at, None);
    let log = s.audit_after(0, 100).await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.disable", "user.disable", "user.enable"]);
    assert_eq!(log[0].actor_id, Some(admin.id));
    assert_eq!(
        log[0].resource_id.as_deref(),
        Some(target.id.to_string().as_str())
    );
    assert!(matches!(
        s.set_user_disabled(&ctx(None, 40), crate::UserId::new(), true)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// `sub` (OpenID Connect's 255), `username` and `email` are bounded on every backend, before
/// any SQL runs: a longer `sub` would otherwise reach PostgreSQL's unique index and fail there.
pub async fn user_fields_are_bounded<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let new = |sub: String, username: Option<String>, email: Option<String>| NewUser {
        issuer: "https://issuer.test".into(),
        sub,
        username,
        email,
        seen: false,
    };
    let longest = new(
        "s".repeat(255),
        Some("u".repeat(128)),
        Some(format!("{}@example.test", "e".repeat(307))),
    );
    assert_eq!(longest.email.as_ref().map(String::len), Some(320));
    let up = s.upsert_user(&longest, t0()).await.expect("at the limits");
    assert_eq!(up.user.sub.len(), 255);
    for (bad, why) in [
        (
            new("s".repeat(256), None, None),
            "sub must be 1 to 255 bytes",
        ),
        (
            new("x".repeat(3000), None, None),
            "sub must be 1 to 255 bytes",
        ),
        (new(String::new(), None, None), "sub must be 1 to 255 bytes"),
        (
            new("ok".into(), Some("u".repeat(129)), None),
            "username must be at most 128 bytes",
        ),
        (
            new("ok".into(), None, Some("e".repeat(321))),
            "email must be at most 320 bytes",
        ),
    ] {
        match s.upsert_user(&bad, t0()).await {
            Err(StoreError::Invalid(got)) => assert_eq!(got, why),
            other => panic!("{why}: {other:?}"),
        }
    }
    assert!(
        s.find_user("https://issuer.test", "ok")
            .await
            .expect("find")
            .is_none()
    );
}

pub async fn operators_find_users_by_name_email_or_sub<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let alice = s
        .upsert_user(
            &new_user("s-alice", Some("Alice"), Some("alice@x.test"), true),
            t0(),
        )
        .await
        .expect("alice")
        .user;
    let alan = s
        .upsert_user(
            &new_user("s-alan", Some("alan"), Some("al_n@x.test"), true),
            at(1),
        )
        .await
        .expect("alan")
        .user;
    let ids = |v: Vec<crate::User>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
    // Exact: username, e-mail or sub, nothing else.
    for text in ["Alice", "alice@x.test", "s-alice"] {
        assert_eq!(
            ids(s.search_users(text, true, 10).await.expect("exact")),
            vec![alice.id],
            "{text}"
        );
    }
    assert!(
        s.search_users("Ali", true, 10)
            .await
            .expect("exact")
            .is_empty()
    );
    // Prefix of username or e-mail, ASCII case ignored; newest first.
    assert_eq!(
        ids(s.search_users("al", false, 10).await.expect("prefix")),
        vec![alan.id, alice.id]
    );
    assert_eq!(
        ids(s.search_users("ALI", false, 10).await.expect("prefix")),
        vec![alice.id]
    );
    // LIKE's wildcards in the text are plain characters.
    assert!(
        s.search_users("a%", false, 10)
            .await
            .expect("wildcard")
            .is_empty()
    );
    assert_eq!(
        ids(s.search_users("al_", false, 10).await.expect("underscore")),
        vec![alan.id]
    );
    assert_eq!(s.search_users("", false, 1).await.expect("newest").len(), 1);
}

pub async fn users_are_looked_up_many_at_once<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let mut made = Vec::new();
    for i in 0..3 {
        let sub = format!("s-many-{i}");
        let user = s
            .upsert_user(&new_user(&sub, None, None, true), at(i))
            .await
            .expect("upsert")
            .user;
        made.push(user);
    }
    let unknown = crate::UserId::new();
    // Known ids come back once each, whatever the repeats and the unknown ids among them.
    let asked = [made[2].id, unknown, made[0].id, made[2].id];
    let mut found = s.get_users(&asked).await.expect("lookup");
    found.sort_by_key(|u| u.id);
    let mut want = vec![made[0].clone(), made[2].clone()];
    want.sort_by_key(|u| u.id);
    assert_eq!(found, want);
    assert!(s.get_users(&[]).await.expect("empty").is_empty());
    assert!(s.get_users(&[unknown]).await.expect("unknown").is_empty());
    let too_many = vec![unknown; crate::MAX_USERS_PER_LOOKUP + 1];
    assert!(matches!(
        s.get_users(&too_many).await,
        Err(crate::StoreError::Invalid(_))
    ));
}
