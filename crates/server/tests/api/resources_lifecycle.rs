//! Resources end to end: versions and `If-Match`, strict input handling, soft delete and
//! restore with their audit rows, and isolation between orgs.

use crate::helpers::assert_problem;
use crate::tenant::start;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn versions_etags_and_if_match() {
    let t = start().await;
    let owner = t.token("owner");
    let org = t.create_org(&owner, "A").await;
    let base = format!("/v1/orgs/{org}/resources");
    let res = t
        .call(
            Some(&owner),
            Method::POST,
            &base,
            Some(json!({"kind": "doc", "name": "v1", "data": {"a": 1}})),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers().get("etag").map(|v| v.as_bytes()),
        Some(&b"\"1\""[..])
    );
    let r: Value = res.json().await.expect("json");
    let one = format!("{base}/{}", r["id"].as_str().expect("id"));
    assert_eq!(r["version"], 1);

    let patch = |if_match: Option<&'static str>, name: &'static str| {
        let mut req = t
            .app
            .client
            .patch(t.app.url(&one))
            .bearer_auth(&owner)
            .json(&json!({"name": name}));
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        req.send()
    };
    let ok = patch(Some("\"1\""), "v2").await.expect("patch");
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers().get("etag").map(|v| v.as_bytes()),
        Some(&b"\"2\""[..])
    );
    assert_problem(patch(Some("\"1\""), "stale").await.expect("patch"), 412).await;
    assert_problem(patch(Some("W/\"2\""), "weak").await.expect("patch"), 400).await;
    assert_eq!(patch(Some("*"), "any").await.expect("patch").status(), 200);
    assert_eq!(
        patch(None, "unconditional").await.expect("patch").status(),
        200
    );
    let now = t.ok(&owner, Method::GET, &one, None, 200).await;
    assert_eq!(
        (now["version"].as_i64(), now["name"].as_str()),
        (Some(4), Some("unconditional"))
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let t = start().await;
    let owner = t.token("owner");
    let org = t.create_org(&owner, "A").await;
    let base = format!("/v1/orgs/{org}/resources");
    let send = |body: &'static str, ct: &'static str| {
        t.app
            .client
            .post(t.app.url(&base))
            .bearer_auth(&owner)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let cases = [
        (
            r#"{"kind":"doc","name":"x","extra":1}"#,
            "application/json",
            422,
        ),
        (r#"{"kind":"doc"}"#, "application/json", 422),
        (r#"{"kind":5,"name":"x"}"#, "application/json", 422),
        (r#"{"kind":"Doc!","name":"x"}"#, "application/json", 422),
        (
            r#"{"kind":"doc","name":"x\u0000y"}"#,
            "application/json",
            422,
        ),
        (r#"{"kind":"doc","name":"#, "application/json", 400),
        (r#"["doc","x",{}]"#, "application/json", 422),
        (r#""doc""#, "application/json", 422),
        (r#"{"kind":"doc","name":"x"}"#, "text/plain", 415),
    ];
    for (body, ct, status) in cases {
        assert_problem(send(body, ct).await.expect("send"), status).await;
    }
    for path in [
        format!("/v1/orgs/{org}/resources/not-a-uuid"),
        "/v1/orgs/12345/resources".to_owned(),
        format!("/v1/orgs/{org}/members/xyz"),
    ] {
        let res = t.call(Some(&owner), Method::GET, &path, None).await;
        let status = res.status().as_u16();
        assert!(status == 400 || status == 405, "{path}: {status}");
        assert_problem(res, status).await;
    }
    let too_big = json!({"kind": "doc", "name": "x", "data": {"blob": "x".repeat(1_100_000)}});
    let res = t
        .call(Some(&owner), Method::POST, &base, Some(too_big))
        .await;
    assert_problem(res, 413).await;
}

#[tokio::test]
async fn soft_delete_restore_and_their_audit_rows() {
    let t = start().await;
    let owner = t.token("owner");
    let org = t.create_org(&owner, "A").await;
    let base = format!("/v1/orgs/{org}/resources");
    let r = t
        .ok(
            &owner,
            Method::POST,
            &base,
            Some(json!({"kind": "doc", "name": "x"})),
            201,
        )
        .await;
    let id = r["id"].as_str().expect("id").to_owned();
    let one = format!("{base}/{id}");
    t.ok(&owner, Method::DELETE, &one, None, 204).await;
    t.ok(&owner, Method::GET, &one, None, 404).await;
    t.ok(&owner, Method::DELETE, &one, None, 404).await;
    let live = t.ok(&owner, Method::GET, &base, None, 200).await;
    assert!(live["items"].as_array().is_some_and(Vec::is_empty));
    let all = t
        .ok(
            &owner,
            Method::GET,
            &format!("{base}?include_deleted=true"),
            None,
            200,
        )
        .await;
    assert_eq!(all["items"][0]["id"], id.as_str());
    assert!(all["items"][0]["deleted_at"].is_string());
    let restored = t
        .ok(&owner, Method::POST, &format!("{one}/restore"), None, 200)
        .await;
    assert_eq!(restored["deleted_at"], Value::Null);
    assert_eq!(restored["version"], 3);
    t.ok(&owner, Method::GET, &one, None, 200).await;

    let audit = t
        .ok(
            &owner,
            Method::GET,
            &format!("/v1/orgs/{org}/audit?resource_id={id}"),
            None,
            200,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["resource.restore", "resource.delete", "resource.create"]
    );
    let rows = audit["items"].as_array().expect("items");
    assert!(
        rows.iter()
            .all(|e| e["request_id"].as_str().is_some_and(|s| s.len() == 36))
    );
    assert!(rows.iter().all(|e| e["actor_id"].is_string()));
}

#[tokio::test]
async fn ids_of_another_org_are_not_found() {
    let t = start().await;
    let alice = t.token("alice");
    let bob = t.token("bob");
    let org_a = t.create_org(&alice, "A").await;
    let org_b = t.create_org(&bob, "B").await;
    let r = t
        .ok(
            &alice,
            Method::POST,
            &format!("/v1/orgs/{org_a}/resources"),
            Some(json!({"kind": "doc", "name": "secret"})),
            201,
        )
        .await;
    let id = r["id"].as_str().expect("id");
    // Bob owns org B and asks for Alice's resource through it: 404, never the object.
    let res = t
        .call(
            Some(&bob),
            Method::GET,
            &format!("/v1/orgs/{org_b}/resources/{id}"),
            None,
        )
        .await;
    let body = assert_problem(res, 404).await;
    assert!(!body.to_string().contains("secret"));
    for (m, b) in [
        (Method::PATCH, Some(json!({"name": "mine"}))),
        (Method::DELETE, None),
    ] {
        let res = t
            .call(
                Some(&bob),
                m,
                &format!("/v1/orgs/{org_b}/resources/{id}"),
                b,
            )
            .await;
        assert_eq!(res.status(), 404);
    }
    // And org A itself does not exist for him.
    let res = t
        .call(Some(&bob), Method::GET, &format!("/v1/orgs/{org_a}"), None)
        .await;
    assert_eq!(res.status(), 404);
}
