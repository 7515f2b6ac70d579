//! What the auth flags do: `jit.provisioning`, `revocation.check_reads`, `auth.client_ids`.

use super::put_flag;
use crate::support::TestApp;
use crate::support::problem::{challenge, with_metadata};
use portcullis_dev_issuer::TokenSpec;
use serde_json::json;

#[tokio::test]
async fn jit_provisioning_off_refuses_new_users_only() {
    let app = TestApp::sqlite().start().await;
    let admin = app.admin("root");
    let known = app.caller("known");
    assert_eq!(known.me().await, 200);
    let org_id = known.create_org("Acme").await;
    assert_eq!(
        put_flag(&admin, "jit.provisioning", json!({"value": false})).await,
        200
    );
    // A user who never signed in: 403, and no row was made.
    let stranger = app.caller("stranger");
    assert_eq!(stranger.me().await, 403);
    assert_eq!(stranger.me().await, 403);
    // Known users, and users pre-provisioned by a platform admin, still sign in.
    assert_eq!(known.me().await, 200);
    admin
        .post(&format!("/v1/orgs/{org_id}/members"))
        .json(json!({"sub": "invited", "role": "member"}))
        .expect(201)
        .await;
    assert_eq!(app.caller("invited").me().await, 200);
    // Back on: the stranger is provisioned.
    assert_eq!(
        put_flag(&admin, "jit.provisioning", json!({"value": true})).await,
        200
    );
    assert_eq!(stranger.me().await, 200);
}

#[tokio::test]
async fn revocation_check_reads_off_lets_revoked_tokens_read_but_not_write() {
    let app = TestApp::sqlite().start().await;
    let admin = app.admin("root");
    let frank = app.caller("frank");
    assert_eq!(frank.me().await, 200);
    assert_eq!(frank.post("/v1/auth/logout").status().await, 204);
    assert_eq!(frank.me().await, 401);
    assert_eq!(
        put_flag(&admin, "revocation.check_reads", json!({"value": false})).await,
        200
    );
    assert_eq!(frank.me().await, 200);
    assert_eq!(frank.get("/v1/orgs").status().await, 200);
    let write = frank
        .post("/v1/orgs")
        .json(json!({"name": "x"}))
        .status()
        .await;
    assert_eq!(write, 401, "writes are always checked");
    assert_eq!(
        put_flag(&admin, "revocation.check_reads", json!({"value": true})).await,
        200
    );
    assert_eq!(frank.me().await, 401);
}

#[tokio::test]
async fn auth_client_ids_narrows_the_configured_clients_at_run_time() {
    let app = TestApp::sqlite()
        .with_config(|c| c.auth.client_ids = vec!["portcullis-dev".into(), "mobile".into()])
        .start()
        .await;
    let admin = app.admin("root");
    let web = app.caller("gina");
    let mobile = app.caller_with(TokenSpec::new("gina").username("gina").client_id("mobile"));
    assert_eq!(mobile.me().await, 200);
    assert_eq!(
        put_flag(&admin, "auth.client_ids", json!({"value": ["other"]})).await,
        422,
        "cannot widen"
    );
    assert_eq!(
        put_flag(
            &admin,
            "auth.client_ids",
            json!({"value": ["portcullis-dev"]})
        )
        .await,
        200
    );
    let res = mobile.get("/v1/me").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        challenge(&res),
        Some(with_metadata(&res, r#"Bearer error="invalid_token""#))
    );
    assert_eq!(web.me().await, 200);
    assert_eq!(
        put_flag(
            &admin,
            "auth.client_ids",
            json!({"value": ["portcullis-dev", "mobile"]})
        )
        .await,
        200
    );
    assert_eq!(mobile.me().await, 200);
}
