//! Runtime feature flags: the admin API (platform admins only, typed validation, audited), a
//! change on instance A in force on instance B within a second (PostgreSQL and Redis shared),
//! the same on one instance without Redis, values surviving a restart, and what the auth flags
//! do: `jit.provisioning`, `revocation.check_reads`, `auth.client_ids`.

use crate::helpers::{
    Cluster, TestApp, client, cluster, postgres_admin_url, redis_prefix, redis_url, spawn_with,
    test_config, wait_ready,
};
use crate::tenant;
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use portcullis_store_postgres::testdb::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = client().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

async fn status(app: &TestApp, method: Method, path: &str, token: &str) -> u16 {
    send(app, method, path, token, None).await.status().as_u16()
}

async fn put_flag(app: &TestApp, token: &str, name: &str, body: Value) -> u16 {
    send(
        app,
        Method::PUT,
        &format!("/v1/admin/flags/{name}"),
        token,
        Some(body),
    )
    .await
    .status()
    .as_u16()
}

fn admin(issuer: &DevIssuer) -> String {
    issuer.mint_access(
        &TokenSpec::new("root")
            .username("root")
            .groups(["portcullis-admin"]),
    )
}

fn user(issuer: &DevIssuer, sub: &str) -> String {
    issuer.mint_access(&TokenSpec::new(sub).username(sub))
}

#[tokio::test]
async fn only_platform_admins_read_and_set_flags_and_values_are_typed() {
    let t = tenant::start().await;
    let admin = t.admin_token("root");
    let alice = t.token("alice");
    let app = &t.app;

    // Alice owns an org: still no flags for her.
    let org: Value = send(
        app,
        Method::POST,
        "/v1/orgs",
        &alice,
        Some(json!({"name": "Acme"})),
    )
    .await
    .json()
    .await
    .expect("org");
    let org_id = org["id"].as_str().expect("id").to_owned();
    assert_eq!(
        status(app, Method::GET, "/v1/admin/flags", &alice).await,
        403
    );
    assert_eq!(
        put_flag(app, &alice, "mfa.required", json!({"value": true})).await,
        403
    );
    assert_eq!(
        client()
            .get(app.url("/v1/admin/flags"))
            .send()
            .await
            .expect("request")
            .status(),
        401
    );

    // The registry with its defaults.
    let res = send(app, Method::GET, "/v1/admin/flags", &admin, None).await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.expect("json");
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

    // Validation.
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
            put_flag(app, &admin, name, body.clone()).await,
            *want,
            "{name} {body}"
        );
    }

    // Set: global and per org; the answer is the flag as now stored.
    let res = send(
        app,
        Method::PUT,
        "/v1/admin/flags/ws.revalidate_secs",
        &admin,
        Some(json!({"value": 60})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let ws: Value = res.json().await.expect("json");
    assert_eq!((&ws["default"], &ws["effective"]), (&json!(30), &json!(60)));
    assert_eq!(ws["global"]["value"], 60);
    assert!(ws["global"]["updated_by"].is_string());
    assert_eq!(
        put_flag(
            app,
            &admin,
            "mfa.required",
            json!({"value": true, "org_id": org_id})
        )
        .await,
        200
    );
    let list: Value = send(app, Method::GET, "/v1/admin/flags", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let mfa = list["items"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["name"] == "mfa.required"))
        .cloned()
        .expect("listed");
    assert_eq!(mfa["effective"], false, "the global value is untouched");
    assert_eq!(mfa["global"], Value::Null);
    assert_eq!(mfa["orgs"][0]["org_id"], org_id.as_str());
    assert_eq!(mfa["orgs"][0]["value"], true);

    // Null removes the override.
    let res = send(
        app,
        Method::PUT,
        "/v1/admin/flags/ws.revalidate_secs",
        &admin,
        Some(json!({"value": null})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let ws: Value = res.json().await.expect("json");
    assert_eq!(
        (&ws["global"], &ws["effective"]),
        (&Value::Null, &json!(30))
    );

    // Every change is audited, with its before and after value.
    let audit: Value = send(
        app,
        Method::GET,
        "/v1/admin/audit?action=flag.set",
        &admin,
        None,
    )
    .await
    .json()
    .await
    .expect("json");
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

/// Polls with a fresh user each time (a successful call provisions the user) until a new user
/// gets `want` from `GET /v1/me`; returns how long that took.
async fn until_new_users_get(c: &Cluster, app: &TestApp, want: u16) -> Duration {
    let start = Instant::now();
    loop {
        let sub = format!("u-{}", uuid::Uuid::now_v7().simple());
        let got = status(app, Method::GET, "/v1/me", &user(&c.issuer, &sub)).await;
        assert!(got < 500, "a 5xx during the scenario: {got}");
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A flag set on `a` is in force on `b` within a second, both ways.
async fn propagation(c: &Cluster, a: &TestApp, b: &TestApp) {
    let admin = admin(&c.issuer);
    until_new_users_get(c, b, 200).await;
    assert_eq!(
        put_flag(a, &admin, "jit.provisioning", json!({"value": false})).await,
        200
    );
    let took = until_new_users_get(c, b, 403).await;
    assert!(
        took < Duration::from_secs(1),
        "the change reached B after {took:?}"
    );
    assert_eq!(
        put_flag(a, &admin, "jit.provisioning", json!({"value": true})).await,
        200
    );
    let took = until_new_users_get(c, b, 200).await;
    assert!(
        took < Duration::from_secs(1),
        "the change reached B after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_instance_is_in_force_on_the_other_through_redis_and_survives_a_restart() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let db = TestDatabase::create(&pg).await.expect("database");
    let c = cluster(db.url(), Some((&redis, &redis_prefix()))).await;
    propagation(&c, &c.a, &c.b).await;
    propagation(&c, &c.b, &c.a).await;

    // Stored in the database: an instance started afterwards has it from its first request.
    let admin = admin(&c.issuer);
    assert_eq!(
        put_flag(&c.a, &admin, "jit.provisioning", json!({"value": false})).await,
        200
    );
    let fresh = spawn_with(&c.config).await;
    wait_ready(&fresh).await;
    let newcomer = user(&c.issuer, "newcomer");
    assert_eq!(status(&fresh, Method::GET, "/v1/me", &newcomer).await, 403);
    // Null removes the override (stored as JSON null on PostgreSQL too).
    assert_eq!(
        put_flag(&fresh, &admin, "jit.provisioning", json!({"value": null})).await,
        200
    );
    assert_eq!(status(&fresh, Method::GET, "/v1/me", &newcomer).await, 200);
    fresh.app.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_without_redis_and_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let c = cluster(&url, None).await;
    propagation(&c, &c.a, &c.a).await;
    let admin = admin(&c.issuer);
    assert_eq!(
        put_flag(
            &c.a,
            &admin,
            "revocation.check_reads",
            json!({"value": false})
        )
        .await,
        200
    );
    let Cluster {
        a,
        b,
        issuer,
        config,
        dir: _dir,
    } = c;
    a.app.stop().await.expect("stops");
    b.app.stop().await.expect("stops");
    let again = spawn_with(&config).await;
    wait_ready(&again).await;
    let flags: Value = send(&again, Method::GET, "/v1/admin/flags", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let reads = flags["items"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["name"] == "revocation.check_reads"))
        .cloned()
        .expect("listed");
    assert_eq!(reads["effective"], false);
    // And in force: a logged-out token still reads.
    let t = user(&issuer, "erin");
    assert_eq!(
        status(&again, Method::POST, "/v1/auth/logout", &t).await,
        204
    );
    assert_eq!(status(&again, Method::GET, "/v1/me", &t).await, 200);
}

#[tokio::test]
async fn jit_provisioning_off_refuses_new_users_only() {
    let t = tenant::start().await;
    let app = &t.app;
    let admin = t.admin_token("root");
    let known = t.token("known");
    assert_eq!(status(app, Method::GET, "/v1/me", &known).await, 200);
    let org: Value = send(
        app,
        Method::POST,
        "/v1/orgs",
        &known,
        Some(json!({"name": "Acme"})),
    )
    .await
    .json()
    .await
    .expect("org");
    let org_id = org["id"].as_str().expect("id").to_owned();
    assert_eq!(
        put_flag(app, &admin, "jit.provisioning", json!({"value": false})).await,
        200
    );
    // A user who never signed in: 403, and no row was made.
    let stranger = t.token("stranger");
    assert_eq!(status(app, Method::GET, "/v1/me", &stranger).await, 403);
    assert_eq!(status(app, Method::GET, "/v1/me", &stranger).await, 403);
    // Known users, and users pre-provisioned by a platform admin, still sign in.
    assert_eq!(status(app, Method::GET, "/v1/me", &known).await, 200);
    let res = send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org_id}/members"),
        &admin,
        Some(json!({"sub": "invited", "role": "member"})),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        status(app, Method::GET, "/v1/me", &t.token("invited")).await,
        200
    );
    // Back on: the stranger is provisioned.
    assert_eq!(
        put_flag(app, &admin, "jit.provisioning", json!({"value": true})).await,
        200
    );
    assert_eq!(status(app, Method::GET, "/v1/me", &stranger).await, 200);
}

#[tokio::test]
async fn revocation_check_reads_off_lets_revoked_tokens_read_but_not_write() {
    let t = tenant::start().await;
    let app = &t.app;
    let admin = t.admin_token("root");
    let token = t.token("frank");
    assert_eq!(status(app, Method::GET, "/v1/me", &token).await, 200);
    assert_eq!(
        status(app, Method::POST, "/v1/auth/logout", &token).await,
        204
    );
    assert_eq!(status(app, Method::GET, "/v1/me", &token).await, 401);
    assert_eq!(
        put_flag(
            app,
            &admin,
            "revocation.check_reads",
            json!({"value": false})
        )
        .await,
        200
    );
    assert_eq!(status(app, Method::GET, "/v1/me", &token).await, 200);
    assert_eq!(status(app, Method::GET, "/v1/orgs", &token).await, 200);
    let res = send(
        app,
        Method::POST,
        "/v1/orgs",
        &token,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(res.status(), 401, "writes are always checked");
    assert_eq!(
        put_flag(
            app,
            &admin,
            "revocation.check_reads",
            json!({"value": true})
        )
        .await,
        200
    );
    assert_eq!(status(app, Method::GET, "/v1/me", &token).await, 401);
}

#[tokio::test]
async fn auth_client_ids_narrows_the_configured_clients_at_run_time() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = test_config(&format!("sqlite://{}/p.db", dir.path().display()));
    config.data_dir = dir.path().to_owned();
    config.auth.client_ids = vec!["portcullis-dev".into(), "mobile".into()];
    let t = tenant::start_with(config, dir).await;
    let app = &t.app;
    let admin = t.admin_token("root");
    let web = t.token("gina");
    let mobile = t
        .issuer
        .mint_access(&TokenSpec::new("gina").username("gina").client_id("mobile"));
    assert_eq!(status(app, Method::GET, "/v1/me", &mobile).await, 200);
    assert_eq!(
        put_flag(app, &admin, "auth.client_ids", json!({"value": ["other"]})).await,
        422,
        "cannot widen"
    );
    assert_eq!(
        put_flag(
            app,
            &admin,
            "auth.client_ids",
            json!({"value": ["portcullis-dev"]})
        )
        .await,
        200
    );
    let res = send(app, Method::GET, "/v1/me", &mobile, None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(status(app, Method::GET, "/v1/me", &web).await, 200);
    assert_eq!(
        put_flag(
            app,
            &admin,
            "auth.client_ids",
            json!({"value": ["portcullis-dev", "mobile"]})
        )
        .await,
        200
    );
    assert_eq!(status(app, Method::GET, "/v1/me", &mobile).await, 200);
}
