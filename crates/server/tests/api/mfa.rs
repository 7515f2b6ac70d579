//! MFA step-up (RFC 9470): a token without proof gets 401 with the
//! `insufficient_user_authentication` challenge where the policy asks for MFA (global and
//! per-org flag, per role, per route from the configuration), and passes with proof (`amr`, or
//! a configured custom claim); with `max_age_secs`, an old `auth_time` is refused too.

use crate::support::problem::{challenge, with_metadata};
use crate::support::ws::connect;
use crate::support::{Caller, TestApp, assert_problem};
use portcullis_dev_issuer::TokenSpec;
use reqwest::Method;
use serde_json::{Value, json};

const LEVEL: &str = r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required""#;

fn with_mfa(app: &TestApp, sub: &str) -> Caller {
    app.caller_with(TokenSpec::new(sub).username(sub).amr(["pwd", "mfa"]))
}

fn admin_with_mfa(app: &TestApp) -> Caller {
    app.caller_with(
        TokenSpec::new("root")
            .username("root")
            .groups(["portcullis-admin"])
            .amr(["mfa"]),
    )
}

/// Asserts a step-up refusal with exactly this challenge.
async fn assert_step_up(caller: &Caller, method: Method, path: &str, want: &str) {
    let res = caller.request(method, path).send().await;
    assert_eq!(challenge(&res), Some(with_metadata(&res, want)), "{path}");
    assert_problem(res, 401).await;
}

async fn set_flag(app: &TestApp, name: &str, body: Value) {
    admin_with_mfa(app).set_flag(name, body).await;
}

async fn add_member(owner: &Caller, org: &str, sub: &str, role: &str) {
    owner
        .post(&format!("/v1/orgs/{org}/members"))
        .json(json!({ "sub": sub, "role": role }))
        .expect(201)
        .await;
}

#[tokio::test]
async fn global_flag_requires_amr_proof_everywhere() {
    let app = TestApp::sqlite().start().await;
    let plain = app.caller("alice");
    assert_eq!(plain.me().await, 200);
    set_flag(&app, "mfa.required", json!({"value": true})).await;
    assert_step_up(&plain, Method::GET, "/v1/me", LEVEL).await;
    let pwd_only = app.caller_with(TokenSpec::new("alice").username("alice").amr(["pwd"]));
    assert_step_up(&pwd_only, Method::GET, "/v1/me", LEVEL).await;
    let otp = app.caller_with(TokenSpec::new("alice").username("alice").amr(["otp"]));
    assert_eq!(otp.me().await, 200);
    let mfa = with_mfa(&app, "alice");
    assert_eq!(mfa.me().await, 200);
    // Org routes too, unless the org says otherwise.
    let org = mfa.create_org("Acme").await;
    assert_step_up(&plain, Method::GET, &format!("/v1/orgs/{org}"), LEVEL).await;
    set_flag(&app, "mfa.required", json!({"value": false, "org_id": org})).await;
    assert_eq!(plain.get(&format!("/v1/orgs/{org}")).status().await, 200);
    assert_step_up(&plain, Method::GET, "/v1/me", LEVEL).await;
    // Back off: no proof needed.
    set_flag(&app, "mfa.required", json!({"value": false})).await;
    assert_eq!(plain.me().await, 200);
}

#[tokio::test]
async fn per_org_flag_applies_to_that_org_only_and_is_no_oracle() {
    let app = TestApp::sqlite().start().await;
    let owner = with_mfa(&app, "olga");
    let strict = owner.create_org("Strict").await;
    let relaxed = owner.create_org("Relaxed").await;
    add_member(&owner, &strict, "bob", "member").await;
    add_member(&owner, &relaxed, "bob", "member").await;
    set_flag(
        &app,
        "mfa.required",
        json!({"value": true, "org_id": strict}),
    )
    .await;
    let bob = app.caller("bob");
    let strict_resources = format!("/v1/orgs/{strict}/resources");
    assert_step_up(&bob, Method::GET, &strict_resources, LEVEL).await;
    assert_eq!(
        bob.get(&format!("/v1/orgs/{relaxed}/resources"))
            .status()
            .await,
        200
    );
    assert_eq!(bob.me().await, 200);
    assert_eq!(
        with_mfa(&app, "bob").get(&strict_resources).status().await,
        200
    );
    // Someone outside the org learns nothing: 404, as for an org that does not exist.
    let eve = app.caller("eve");
    assert_eq!(eve.get(&format!("/v1/orgs/{strict}")).status().await, 404);
}

#[tokio::test]
async fn per_role_flag() {
    let app = TestApp::sqlite().start().await;
    let owner_mfa = with_mfa(&app, "olga");
    let org = owner_mfa.create_org("Acme").await;
    add_member(&owner_mfa, &org, "mel", "member").await;
    set_flag(
        &app,
        "mfa.required_roles",
        json!({"value": ["owner", "platform_admin"]}),
    )
    .await;
    let path = format!("/v1/orgs/{org}");
    assert_step_up(&app.caller("olga"), Method::GET, &path, LEVEL).await;
    assert_eq!(owner_mfa.get(&path).status().await, 200);
    assert_eq!(app.caller("mel").get(&path).status().await, 200);
    // The owner's other routes outside the org are not affected.
    assert_eq!(app.caller("olga").me().await, 200);
    // platform_admin: every route of a platform admin.
    let admin = app.admin("root");
    assert_step_up(&admin, Method::GET, "/v1/admin/flags", LEVEL).await;
    assert_step_up(&admin, Method::GET, "/v1/me", LEVEL).await;
    assert_eq!(
        admin_with_mfa(&app).get("/v1/admin/flags").status().await,
        200
    );
}

#[tokio::test]
async fn per_route_configuration() {
    let app = TestApp::sqlite()
        .with_config(|c| c.mfa.routes = vec!["/v1/orgs/{org_id}/members".into()])
        .start()
        .await;
    let plain = app.caller("olga");
    let org = plain.create_org("Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    assert_step_up(&plain, Method::GET, &members, LEVEL).await;
    assert_step_up(&plain, Method::POST, &members, LEVEL).await;
    assert_eq!(plain.get(&format!("/v1/orgs/{org}")).status().await, 200);
    assert_eq!(with_mfa(&app, "olga").get(&members).status().await, 200);
}

#[tokio::test]
async fn custom_claim_from_a_pre_token_generation_trigger() {
    let app = TestApp::sqlite()
        .with_config(|c| {
            c.mfa.required = true;
            c.mfa.claim = "custom:mfa".into();
            c.mfa.values = vec!["true".into()];
        })
        .start()
        .await;
    let spec = || TokenSpec::new("cara").username("cara");
    let proven = app.caller_with(spec().claim("custom:mfa", "true"));
    let refused = app.caller_with(spec().claim("custom:mfa", "false"));
    let amr_only = app.caller_with(spec().amr(["mfa"]));
    let none = app.caller_with(spec());
    assert_eq!(proven.me().await, 200);
    for caller in [&refused, &amr_only, &none] {
        assert_step_up(caller, Method::GET, "/v1/me", LEVEL).await;
    }
}

#[tokio::test]
async fn max_age_refuses_an_old_auth_time_and_the_challenge_carries_acr_values_and_max_age() {
    let app = TestApp::sqlite()
        .with_config(|c| {
            c.mfa.routes = vec!["/v1/me".into()];
            c.mfa.acr_values = vec!["phr".into()];
            c.mfa.max_age_secs = Some(300);
        })
        .start()
        .await;
    let now = chrono::Utc::now().timestamp();
    let spec = || TokenSpec::new("max").username("max").amr(["mfa"]);
    let recent = app.caller_with(spec().auth_time(now - 10));
    let old = app.caller_with(spec().auth_time(now - 3600));
    let no_proof = app.caller_with(TokenSpec::new("max").username("max").auth_time(now - 10));
    assert_eq!(recent.me().await, 200);
    assert_step_up(
        &old,
        Method::GET,
        "/v1/me",
        r#"Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", acr_values="phr", max_age="300""#,
    )
    .await;
    assert_step_up(
        &no_proof,
        Method::GET,
        "/v1/me",
        r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phr", max_age="300""#,
    )
    .await;
}

#[tokio::test]
async fn global_flag_covers_the_restore_of_a_deleted_org() {
    let app = TestApp::sqlite()
        .with_config(|c| c.mfa.required = true)
        .start()
        .await;
    let owner = with_mfa(&app, "olga");
    let org = owner.create_org("Acme").await;
    let path = format!("/v1/orgs/{org}");
    assert_eq!(owner.delete(&path).status().await, 204);
    let restore = format!("/v1/orgs/{org}/restore");
    assert_step_up(&app.admin("root"), Method::POST, &restore, LEVEL).await;
    assert_eq!(
        owner.get(&path).status().await,
        404,
        "the refused restore left the org deleted"
    );
    assert_eq!(admin_with_mfa(&app).post(&restore).status().await, 200);
    assert_eq!(owner.get(&path).status().await, 200);
}

/// The resource routes in `mfa.routes` protect the same data over `/v1/ws`: subscribing to the
/// org's resource events and exporting its resources need the proof too.
#[tokio::test]
async fn websocket_subscribe_and_export_obey_the_resource_routes() {
    let app = TestApp::sqlite()
        .with_config(|c| {
            c.mfa.routes = vec![
                "/v1/orgs/{org_id}/resources".into(),
                "/v1/orgs/{org_id}/resources/{id}".into(),
            ];
        })
        .start()
        .await;
    let proven = with_mfa(&app, "olga");
    let org = proven.create_org("Acme").await;
    proven.create_resource(&org, "secret").await;
    let plain = app.caller("olga");
    let resources = format!("/v1/orgs/{org}/resources");
    assert_step_up(&plain, Method::GET, &resources, LEVEL).await;

    let (mut ws, _) = connect(&app, plain.token()).await;
    for ty in ["subscribe", "export"] {
        ws.send(json!({ "type": ty, "org_id": org })).await;
        let err = ws.expect("error").await;
        assert_eq!(err["code"], "insufficient_user_authentication", "{ty}");
        assert_eq!(err["org_id"], org.as_str(), "{ty}");
    }
    // Refused, not closed.
    ws.send(json!({ "type": "ping" })).await;
    ws.expect("pong").await;
    // Signing in again with MFA and refreshing opens the way.
    ws.send(json!({ "type": "refresh", "token": proven.token() }))
        .await;
    ws.expect("refreshed").await;
    ws.send(json!({ "type": "subscribe", "org_id": org })).await;
    ws.expect("subscribed").await;

    let (mut ws, _) = connect(&app, proven.token()).await;
    ws.send(json!({ "type": "subscribe", "org_id": org })).await;
    ws.expect("subscribed").await;
    ws.send(json!({ "type": "export", "org_id": org })).await;
    ws.expect("export_started").await;
    let items = ws.expect("export_items").await;
    assert_eq!(items["items"][0]["name"], "secret");
    ws.expect("export_progress").await;
    assert_eq!(ws.expect("export_done").await["exported"], 1);
    // A token without the proof cannot take over a socket that holds a subscription.
    ws.send(json!({ "type": "refresh", "token": plain.token() }))
        .await;
    assert_eq!(ws.expect("error").await["code"], "refresh_refused");
    ws.send(json!({ "type": "ping" })).await;
    ws.expect("pong").await;
}
