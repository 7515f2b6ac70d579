//! A database prepared in-process with the store, as the commands find it in production:
//! orgs and resources deleted long ago and recently, live ones, and token revocations.

use chrono::{DateTime, Duration, Utc};
use portcullis_store::{
    AuditEntry, AuditStore, ChangeContext, ConnectOptions, NewResource, NewUser, OrgId, ResourceId,
    RevocationKind, RevokedToken,
};
use portcullis_store_sqlite::SqliteStore;
use tempfile::TempDir;

fn resource(org: OrgId, owner: portcullis_store::UserId, name: &str) -> NewResource {
    NewResource {
        org_id: org,
        owner_id: owner,
        kind: "doc".into(),
        name: name.into(),
        data: serde_json::json!({ "n": name }),
    }
}

/// What the fixture created, for the assertions.
pub struct Fixture {
    pub live_org: OrgId,
    pub old_org: OrgId,
    pub recent_org: OrgId,
    pub old_resources: Vec<ResourceId>,
    pub recent_resource: ResourceId,
    pub live_resource: ResourceId,
    pub expired_jti: String,
    pub live_jti: String,
}

/// Orgs and resources soft-deleted 40 days ago (to purge) and 5 days ago (to keep), live ones,
/// and one expired and one live token revocation.
pub async fn populate<S: portcullis_store::Store + ?Sized>(store: &S) -> Fixture {
    let now = Utc::now();
    let old = now - Duration::days(40);
    let recent = now - Duration::days(5);
    let user = store
        .upsert_user(
            &NewUser {
                issuer: "https://issuer.test".into(),
                sub: "alice".into(),
                username: Some("alice".into()),
                email: None,
                seen: true,
            },
            now,
        )
        .await
        .expect("user")
        .user
        .id;
    let at = |t: DateTime<Utc>| ChangeContext::new(Some(user), "setup", t);
    let live_org = store
        .create_org(&at(now), user, "live")
        .await
        .expect("org")
        .id;
    let old_org = store
        .create_org(&at(now), user, "old")
        .await
        .expect("org")
        .id;
    let recent_org = store
        .create_org(&at(now), user, "recent")
        .await
        .expect("org")
        .id;
    // A live resource inside the org that goes: it leaves with its org.
    store
        .create_resource(&at(now), &resource(old_org, user, "inside-old-org"))
        .await
        .expect("resource");
    store
        .soft_delete_org(&at(old), old_org)
        .await
        .expect("delete org");
    store
        .soft_delete_org(&at(recent), recent_org)
        .await
        .expect("delete org");

    let mut old_resources = Vec::new();
    for name in ["old-1", "old-2"] {
        let r = store
            .create_resource(&at(now), &resource(live_org, user, name))
            .await
            .expect("resource");
        store
            .soft_delete_resource(&at(old), live_org, r.id)
            .await
            .expect("delete resource");
        old_resources.push(r.id);
    }
    let recent_resource = store
        .create_resource(&at(now), &resource(live_org, user, "recent"))
        .await
        .expect("resource")
        .id;
    store
        .soft_delete_resource(&at(recent), live_org, recent_resource)
        .await
        .expect("delete resource");
    let live_resource = store
        .create_resource(&at(now), &resource(live_org, user, "live"))
        .await
        .expect("resource")
        .id;

    let (expired_jti, live_jti) = ("jti-expired".to_owned(), "jti-live".to_owned());
    for (jti, exp) in [
        (&expired_jti, now - Duration::hours(1)),
        (&live_jti, now + Duration::hours(1)),
    ] {
        store
            .revoke_token(
                &at(now),
                &RevokedToken {
                    kind: RevocationKind::Jti,
                    value: jti.clone(),
                    expires_at: exp,
                },
            )
            .await
            .expect("revoke");
    }
    Fixture {
        live_org,
        old_org,
        recent_org,
        old_resources,
        recent_resource,
        live_resource,
        expired_jti,
        live_jti,
    }
}

pub async fn all_audit<S: AuditStore + ?Sized>(store: &S) -> Vec<AuditEntry> {
    store.audit_after(0, 100_000).await.expect("audit rows")
}

/// A migrated SQLite file in a fresh directory, with the store that prepared it.
pub async fn sqlite() -> (TempDir, String, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let store = SqliteStore::connect(&url, &ConnectOptions::default())
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    (dir, url, store)
}
