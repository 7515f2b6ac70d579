//! MFA step-up (RFC 9470): a token without proof gets 401 with the
//! `insufficient_user_authentication` challenge where the policy asks for MFA (global and
//! per-org flag, per role, per route from the configuration), and passes with proof (`amr`, or
//! a configured custom claim); with `max_age_secs`, an old `auth_time` is refused too.

use crate::helpers::{assert_problem, test_config};
use crate::tenant::{self, Tenant};
use crate::websocket::connect;
use portcullis_dev_issuer::TokenSpec;
use reqwest::Method;
use serde_json::{Value, json};

const LEVEL: &str = r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required""#;

async fn start(configure: impl FnOnce(&mut portcullis::Config)) -> Tenant {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = test_config(&format!("sqlite://{}/p.db", dir.path().display()));
    config.data_dir = dir.path().to_owned();
    configure(&mut config);
    tenant::start_with(config, dir).await
}

fn with_mfa(t: &Tenant, sub: &str) -> String {
    t.issuer
        .mint_access(&TokenSpec::new(sub).username(sub).amr(["pwd", "mfa"]))
}

fn admin_with_mfa(t: &Tenant) -> String {
    t.issuer.mint_access(
        &TokenSpec::new("root")
            .username("root")
            .groups(["portcullis-admin"])
            .amr(["mfa"]),
    )
}

async fn status(t: &Tenant, token: &str, method: Method, path: &str) -> u16 {
    t.call(Some(token), method, path, None)
        .await
        .status()
        .as_u16()
}

/// Asserts a step-up refusal with exactly this challenge.
async fn assert_step_up(t: &Tenant, token: &str, method: Method, path: &str, challenge: &str) {
    let res = t.call(Some(token), method, path, None).await;
    let got = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(got.as_deref(), Some(challenge), "{path}");
    assert_problem(res, 401).await;
}

async fn set_flag(t: &Tenant, name: &str, body: Value) {
    let res = t
        .call(
            Some(&admin_with_mfa(t)),
            Method::PUT,
            &format!("/v1/admin/flags/{name}"),
            Some(body),
        )
        .await;
    assert_eq!(res.status(), 200, "{name}");
}

async fn create_org(t: &Tenant, token: &str, name: &str) -> String {
    let res = t
        .call(
            Some(token),
            Method::POST,
            "/v1/orgs",
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.expect("json");
    v["id"].as_str().expect("id").to_owned()
}

async fn add_member(t: &Tenant, owner: &str, org: &str, sub: &str, role: &str) {
    let res = t
        .call(
            Some(owner),
            Method::POST,
            &format!("/v1/orgs/{org}/members"),
            Some(json!({ "sub": sub, "role": role })),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn global_flag_requires_amr_proof_everywhere() {
    let t = start(|_| {}).await;
    let plain = t.token("alice");
    assert_eq!(status(&t, &plain, Method::GET, "/v1/me").await, 200);
    set_flag(&t, "mfa.required", json!({"value": true})).await;
    assert_step_up(&t, &plain, Method::GET, "/v1/me", LEVEL).await;
    let pwd_only = t
        .issuer
        .mint_access(&TokenSpec::new("alice").username("alice").amr(["pwd"]));
    assert_step_up(&t, &pwd_only, Method::GET, "/v1/me", LEVEL).await;
    let otp = t
        .issuer
        .mint_access(&TokenSpec::new("alice").username("alice").amr(["otp"]));
    assert_eq!(status(&t, &otp, Method::GET, "/v1/me").await, 200);
    let mfa = with_mfa(&t, "alice");
    assert_eq!(status(&t, &mfa, Method::GET, "/v1/me").await, 200);
    // Org routes too, unless the org says otherwise.
    let org = create_org(&t, &mfa, "Acme").await;
    assert_step_up(&t, &plain, Method::GET, &format!("/v1/orgs/{org}"), LEVEL).await;
    set_flag(&t, "mfa.required", json!({"value": false, "org_id": org})).await;
    assert_eq!(
        status(&t, &plain, Method::GET, &format!("/v1/orgs/{org}")).await,
        200
    );
    assert_step_up(&t, &plain, Method::GET, "/v1/me", LEVEL).await;
    // Back off: no proof needed.
    set_flag(&t, "mfa.required", json!({"value": false})).await;
    assert_eq!(status(&t, &plain, Method::GET, "/v1/me").await, 200);
}

#[tokio::test]
async fn per_org_flag_applies_to_that_org_only_and_is_no_oracle() {
    let t = start(|_| {}).await;
    let owner = with_mfa(&t, "olga");
    let strict = create_org(&t, &owner, "Strict").await;
    let relaxed = create_org(&t, &owner, "Relaxed").await;
    add_member(&t, &owner, &strict, "bob", "member").await;
    add_member(&t, &owner, &relaxed, "bob", "member").await;
    set_flag(&t, "mfa.required", json!({"value": true, "org_id": strict})).await;
    let bob = t.token("bob");
    assert_step_up(
        &t,
        &bob,
        Method::GET,
        &format!("/v1/orgs/{strict}/resources"),
        LEVEL,
    )
    .await;
    assert_eq!(
        status(
            &t,
            &bob,
            Method::GET,
            &format!("/v1/orgs/{relaxed}/resources")
        )
        .await,
        200
    );
    assert_eq!(status(&t, &bob, Method::GET, "/v1/me").await, 200);
    assert_eq!(
        status(
            &t,
            &with_mfa(&t, "bob"),
            Method::GET,
            &format!("/v1/orgs/{strict}/resources")
        )
        .await,
        200
    );
    // Someone outside the org learns nothing: 404, as for an org that does not exist.
    let eve = t.token("eve");
    assert_eq!(
        status(&t, &eve, Method::GET, &format!("/v1/orgs/{strict}")).await,
        404
    );
}

#[tokio::test]
async fn per_role_flag() {
    let t = start(|_| {}).await;
    let owner_mfa = with_mfa(&t, "olga");
    let org = create_org(&t, &owner_mfa, "Acme").await;
    add_member(&t, &owner_mfa, &org, "mel", "member").await;
    set_flag(
        &t,
        "mfa.required_roles",
        json!({"value": ["owner", "platform_admin"]}),
    )
    .await;
    let path = format!("/v1/orgs/{org}");
    assert_step_up(&t, &t.token("olga"), Method::GET, &path, LEVEL).await;
    assert_eq!(status(&t, &owner_mfa, Method::GET, &path).await, 200);
    assert_eq!(status(&t, &t.token("mel"), Method::GET, &path).await, 200);
    // The owner's other routes outside the org are not affected.
    assert_eq!(
        status(&t, &t.token("olga"), Method::GET, "/v1/me").await,
        200
    );
    // platform_admin: every route of a platform admin.
    let admin = t.admin_token("root");
    assert_step_up(&t, &admin, Method::GET, "/v1/admin/flags", LEVEL).await;
    assert_step_up(&t, &admin, Method::GET, "/v1/me", LEVEL).await;
    assert_eq!(
        status(&t, &admin_with_mfa(&t), Method::GET, "/v1/admin/flags").await,
        200
    );
}

#[tokio::test]
async fn per_route_configuration() {
    let t = start(|c| c.mfa.routes = vec!["/v1/orgs/{org_id}/members".into()]).await;
    let plain = t.token("olga");
    let org = create_org(&t, &plain, "Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    assert_step_up(&t, &plain, Method::GET, &members, LEVEL).await;
    assert_step_up(&t, &plain, Method::POST, &members, LEVEL).await;
    assert_eq!(
        status(&t, &plain, Method::GET, &format!("/v1/orgs/{org}")).await,
        200
    );
    assert_eq!(
        status(&t, &with_mfa(&t, "olga"), Method::GET, &members).await,
        200
    );
}

#[tokio::test]
async fn custom_claim_from_a_pre_token_generation_trigger() {
    let t = start(|c| {
        c.mfa.required = true;
        c.mfa.claim = "custom:mfa".into();
        c.mfa.values = vec!["true".into()];
    })
    .await;
    let spec = || TokenSpec::new("cara").username("cara");
    let proven = t.issuer.mint_access(&spec().claim("custom:mfa", "true"));
    let refused = t.issuer.mint_access(&spec().claim("custom:mfa", "false"));
    let amr_only = t.issuer.mint_access(&spec().amr(["mfa"]));
    let none = t.issuer.mint_access(&spec());
    assert_eq!(status(&t, &proven, Method::GET, "/v1/me").await, 200);
    for token in [&refused, &amr_only, &none] {
        assert_step_up(&t, token, Method::GET, "/v1/me", LEVEL).await;
    }
}

#[tokio::test]
async fn max_age_refuses_an_old_auth_time_and_the_challenge_carries_acr_values_and_max_age() {
    let t = start(|c| {
        c.mfa.routes = vec!["/v1/me".into()];
        c.mfa.acr_values = vec!["phr".into()];
        c.mfa.max_age_secs = Some(300);
    })
    .await;
    let now = chrono::Utc::now().timestamp();
    let spec = || TokenSpec::new("max").username("max").amr(["mfa"]);
    let recent = t.issuer.mint_access(&spec().auth_time(now - 10));
    let old = t.issuer.mint_access(&spec().auth_time(now - 3600));
    let no_proof = t
        .issuer
        .mint_access(&TokenSpec::new("max").username("max").auth_time(now - 10));
    assert_eq!(status(&t, &recent, Method::GET, "/v1/me").await, 200);
    assert_step_up(
        &t,
        &old,
        Method::GET,
        "/v1/me",
        r#"Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", acr_values="phr", max_age="300""#,
    )
    .await;
    assert_step_up(
        &t,
        &no_proof,
        Method::GET,
        "/v1/me",
        r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phr", max_age="300""#,
    )
    .await;
}

#[tokio::test]
async fn global_flag_covers_the_restore_of_a_deleted_org() {
    let t = start(|c| c.mfa.required = true).await;
    let owner = with_mfa(&t, "olga");
    let org = create_org(&t, &owner, "Acme").await;
    let path = format!("/v1/orgs/{org}");
    assert_eq!(status(&t, &owner, Method::DELETE, &path).await, 204);
    let restore = format!("/v1/orgs/{org}/restore");
    assert_step_up(&t, &t.admin_token("root"), Method::POST, &restore, LEVEL).await;
    assert_eq!(
        status(&t, &owner, Method::GET, &path).await,
        404,
        "the refused restore left the org deleted"
    );
    assert_eq!(
        status(&t, &admin_with_mfa(&t), Method::POST, &restore).await,
        200
    );
    assert_eq!(status(&t, &owner, Method::GET, &path).await, 200);
}

/// The resource routes in `mfa.routes` protect the same data over `/v1/ws`: subscribing to the
/// org's resource events and exporting its resources need the proof too.
#[tokio::test]
async fn websocket_subscribe_and_export_obey_the_resource_routes() {
    let t = start(|c| {
        c.mfa.routes = vec![
            "/v1/orgs/{org_id}/resources".into(),
            "/v1/orgs/{org_id}/resources/{id}".into(),
        ];
    })
    .await;
    let proven = with_mfa(&t, "olga");
    let org = create_org(&t, &proven, "Acme").await;
    let res = t
        .call(
            Some(&proven),
            Method::POST,
            &format!("/v1/orgs/{org}/resources"),
            Some(json!({ "kind": "doc", "name": "secret" })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let plain = t.token("olga");
    let resources = format!("/v1/orgs/{org}/resources");
    assert_step_up(&t, &plain, Method::GET, &resources, LEVEL).await;

    let (mut ws, _) = connect(&t.app, &plain).await;
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
    ws.send(json!({ "type": "refresh", "token": proven })).await;
    ws.expect("refreshed").await;
    ws.send(json!({ "type": "subscribe", "org_id": org })).await;
    ws.expect("subscribed").await;

    let (mut ws, _) = connect(&t.app, &proven).await;
    ws.send(json!({ "type": "subscribe", "org_id": org })).await;
    ws.expect("subscribed").await;
    ws.send(json!({ "type": "export", "org_id": org })).await;
    ws.expect("export_started").await;
    let items = ws.expect("export_items").await;
    assert_eq!(items["items"][0]["name"], "secret");
    ws.expect("export_progress").await;
    assert_eq!(ws.expect("export_done").await["exported"], 1);
    // A token without the proof cannot take over a socket that holds a subscription.
    ws.send(json!({ "type": "refresh", "token": plain })).await;
    assert_eq!(ws.expect("error").await["code"], "refresh_refused");
    ws.send(json!({ "type": "ping" })).await;
    ws.expect("pong").await;
}
