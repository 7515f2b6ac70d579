//! `GET /v1/admin/flags` and `PUT /v1/admin/flags/{name}`: who may use them, what they list,
//! what they accept, and the audit rows they write.

use super::{listed, put_flag};
use crate::support::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn non_admins_are_refused() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    // Alice owns an org: still no flags for her.
    alice.create_org("Acme").await;
    assert_eq!(alice.get("/v1/admin/flags").status().await, 403);
    assert_eq!(
        put_flag(&alice, "mfa.required", json!({"value": true})).await,
        403
    );
    assert_eq!(app.anonymous().get("/v1/admin/flags").status().await, 401);
}

#[tokio::test]
async fn the_registry_lists_every_flag_with_its_default() {
    let app = TestApp::sqlite().start().await;
    let list = app.admin("root").get("/v1/admin/flags").expect(200).await;
    let items = list["items"].as_array().expect("items");
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "auth.client_ids",
            "jit.provisioning",
            "mfa.required",
            "mfa.required_roles",
            "revocation.check_reads",
            "ws.revalidate_secs"
        ]
    );
    assert_eq!(list["next_cursor"], Value::Null);
    let item = |name: &str| -> Value {
        items
            .iter()
            .find(|i| i["name"] == name)
            .cloned()
            .expect("listed")
    };
    let ws = item("ws.revalidate_secs");
    assert_eq!(
        (&ws["type"], &ws["scope"], &ws["default"], &ws["effective"]),
        (&json!("integer"), &json!("global"), &json!(30), &json!(30))
    );
    assert_eq!((&ws["minimum"], &ws["maximum"]), (&json!(5), &json!(3600)));
    assert_eq!(
        item("auth.client_ids")["default"],
        json!(["portcullis-dev"])
    );
    assert_eq!(item("mfa.required")["scope"], "global_and_org");
    assert_eq!(item("revocation.check_reads")["default"], true);
    assert_eq!(item("jit.provisioning")["default"], true);
}

#[tokio::test]
async fn values_are_typed() {
    let app = TestApp::sqlite().start().await;
    let admin = app.admin("root");
    let org_id = app.caller("alice").create_org("Acme").await;
    let cases: &[(&str, Value, u16)] = &[
        ("no.such.flag", json!({"value": true}), 404),
        ("mfa.required", json!({"value": "yes"}), 422),
        ("mfa.required", json!({"value": 1}), 422),
        ("mfa.required", json!({}), 422),
        ("mfa.required", json!({"value": true, "extra": 1}), 422),
        ("mfa.required_roles", json!({"value": ["root"]}), 422),
        ("mfa.required_roles", json!({"value": "owner"}), 422),
        ("ws.revalidate_secs", json!({"value": 4}), 422),
        ("ws.revalidate_secs", json!({"value": 3601}), 422),
        ("ws.revalidate_secs", json!({"value": "60"}), 422),
        ("auth.client_ids", json!({"value": ["someone-else"]}), 422),
        ("auth.client_ids", json!({"value": []}), 422),
        (
            "jit.provisioning",
            json!({"value": false, "org_id": org_id}),
            422,
        ),
        (
            "mfa.required",
            json!({"value": true, "org_id": uuid::Uuid::now_v7()}),
            422,
        ),
        (
            "mfa.required",
            json!({"value": true, "org_id": "nope"}),
            422,
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(
            put_flag(&admin, name, body.clone()).await,
            *want,
            "{name} {body}"
        );
    }
    // A refused value writes no audit row.
    let audit = admin
        .get("/v1/admin/audit?action=flag.set")
        .expect(200)
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(0), "{audit}");
}

#[tokio::test]
async fn a_global_value_and_a_per_org_override_are_stored_apart() {
    let app = TestApp::sqlite().start().await;
    let admin = app.admin("root");
    let org_id = app.caller("alice").create_org("Acme").await;
    // The answer is the flag as now stored.
    let ws = admin
        .set_flag("ws.revalidate_secs", json!({"value": 60}))
        .await;
    assert_eq!((&ws["default"], &ws["effective"]), (&json!(30), &json!(60)));
    assert_eq!(ws["global"]["value"], 60);
    assert!(ws["global"]["updated_by"].is_string());
    assert_eq!(
        put_flag(
            &admin,
            "mfa.required",
            json!({"value": true, "org_id": org_id})
        )
        .await,
        200
    );
    let mfa = listed(&admin, "mfa.required").await;
    assert_eq!(mfa["effective"], false, "the global value is untouched");
    assert_eq!(mfa["global"], Value::Null);
    assert_eq!(mfa["orgs"][0]["org_id"], org_id.as_str());
    assert_eq!(mfa["orgs"][0]["value"], true);
}

#[tokio::test]
async fn null_removes_the_override() {
    let app = TestApp::sqlite().start().await;
    let admin = app.admin("root");
    admin
        .set_flag("ws.revalidate_secs", json!({"value": 60}))
        .await;
    let ws = admin
        .set_flag("ws.revalidate_secs", json!({"value": null}))
        .await;
    assert_eq!(
        (&ws["global"], &ws["effective"]),
        (&Value::Null, &json!(30))
    );
}

#[tokio::test]
async fn every_change_is_audited_with_its_before_and_after_value() {
    let app = TestApp::sqlite().start().await;
    let admin = app.admin("root");
    let org_id = app.caller("alice").create_org("Acme").await;
    admin
        .set_flag("ws.revalidate_secs", json!({"value": 60}))
        .await;
    admin
        .set_flag("mfa.required", json!({"value": true, "org_id": org_id}))
        .await;
    admin
        .set_flag("ws.revalidate_secs", json!({"value": null}))
        .await;
    let audit = admin
        .get("/v1/admin/audit?action=flag.set")
        .expect(200)
        .await;
    let rows = audit["items"].as_array().expect("items");
    assert_eq!(rows.len(), 3, "{audit}");
    let newest = &rows[0];
    assert_eq!(newest["resource_type"], "flag");
    assert_eq!(newest["resource_id"], "ws.revalidate_secs");
    assert_eq!(
        newest["changes"],
        json!({"value": {"before": 60, "after": null}})
    );
    assert!(newest["actor_id"].is_string());
    assert!(newest["request_id"].is_string());
    assert_eq!(rows[1]["org_id"], org_id.as_str());
}
