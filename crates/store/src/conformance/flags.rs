use super::support::{Harness, at, ctx, user};
use crate::{FlagKey, Store, StoreError};
use serde_json::json;

pub async fn flags_global_and_per_org<S: Store + 'static>(h: &Harness<S>) {
    let s = &*h.store;
    let admin = user(s, "admin").await;
    let org = s
        .create_org(&ctx(Some(admin.id), 1), admin.id, "Acme")
        .await
        .expect("org");
    let global = FlagKey {
        name: "mfa.required".into(),
        org_id: None,
    };
    let per_org = FlagKey {
        name: "mfa.required".into(),
        org_id: Some(org.id),
    };
    assert_eq!(s.get_flag(&global).await.expect("get"), None);
    let g = s
        .set_flag(&ctx(Some(admin.id), 2), &global, &json!(false))
        .await
        .expect("set global");
    assert_eq!(
        (g.value.clone(), g.updated_by, g.updated_at),
        (json!(false), Some(admin.id), at(2))
    );
    s.set_flag(&ctx(Some(admin.id), 3), &per_org, &json!(true))
        .await
        .expect("set per org");
    let g2 = s
        .set_flag(
            &ctx(Some(admin.id), 4),
            &global,
            &json!({"roles": ["admin"]}),
        )
        .await
        .expect("update global");
    assert_eq!(g2.value, json!({"roles": ["admin"]}));
    assert_eq!(s.get_flag(&global).await.expect("get"), Some(g2));
    assert_eq!(
        s.get_flag(&per_org).await.expect("get").map(|f| f.value),
        Some(json!(true))
    );
    s.set_flag(
        &ctx(None, 5),
        &FlagKey {
            name: "a.first".into(),
            org_id: None,
        },
        &json!(1),
    )
    .await
    .expect("set");
    let listed: Vec<(String, bool)> = s
        .list_flags()
        .await
        .expect("list")
        .into_iter()
        .map(|f| (f.name, f.org_id.is_some()))
        .collect();
    assert_eq!(
        listed,
        [
            ("a.first".to_owned(), false),
            ("mfa.required".to_owned(), false),
            ("mfa.required".to_owned(), true)
        ]
    );
    let changes: Vec<serde_json::Value> = s
        .audit_after(0, 100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "flag.set")
        .map(|e| e.changes)
        .collect();
    assert_eq!(
        changes[0],
        json!({"value": {"before": null, "after": false}})
    );
    assert_eq!(
        changes[2],
        json!({"value": {"before": false, "after": {"roles": ["admin"]}}})
    );
    s.soft_delete_org(&ctx(Some(admin.id), 6), org.id)
        .await
        .expect("delete org");
    assert!(matches!(
        s.set_flag(&ctx(Some(admin.id), 7), &per_org, &json!(false))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_flag(
            &ctx(Some(admin.id), 7),
            &FlagKey {
                name: "Bad Name".into(),
                org_id: None
            },
            &json!(1)
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
}
