//! Resources end to end: versions and `If-Match`, strict input handling, soft delete and
//! restore with their audit rows, and isolation between orgs.

use crate::support::{TestApp, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn versions_etags_and_if_match() {
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = owner.create_org("A").await;
    let base = format!("/v1/orgs/{org}/resources");
    let res = owner
        .post(&base)
        .json(json!({"kind": "doc", "name": "v1", "data": {"a": 1}}))
        .send()
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
        let mut req = owner.patch(&one).json(json!({"name": name}));
        if let Some(m) = if_match {
            req = req.if_match(m);
        }
        req.send()
    };
    let ok = patch(Some("\"1\""), "v2").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers().get("etag").map(|v| v.as_bytes()),
        Some(&b"\"2\""[..])
    );
    assert_problem(patch(Some("\"1\""), "stale").await, 412).await;
    assert_problem(patch(Some("W/\"2\""), "weak").await, 400).await;
    assert_eq!(patch(Some("*"), "any").await.status(), 200);
    assert_eq!(patch(None, "unconditional").await.status(), 200);
    let now = owner.get(&one).expect(200).await;
    assert_eq!(
        (now["version"].as_i64(), now["name"].as_str()),
        (Some(4), Some("unconditional"))
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = owner.create_org("A").await;
    let base = format!("/v1/orgs/{org}/resources");
    let send = |body: &'static str, ct: &'static str| {
        owner
            .post(&base)
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
        assert_problem(send(body, ct).await, status).await;
    }
    for path in [
        format!("/v1/orgs/{org}/resources/not-a-uuid"),
        "/v1/orgs/12345/resources".to_owned(),
        format!("/v1/orgs/{org}/members/xyz"),
    ] {
        let res = owner.get(&path).send().await;
        let status = res.status().as_u16();
        assert!(status == 400 || status == 405, "{path}: {status}");
        assert_problem(res, status).await;
    }
    let too_big = json!({"kind": "doc", "name": "x", "data": {"blob": "x".repeat(1_100_000)}});
    let res = owner.post(&base).json(too_big).send().await;
    assert_problem(res, 413).await;
}

#[tokio::test]
async fn soft_delete_restore_and_their_audit_rows() {
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = owner.create_org("A").await;
    let base = format!("/v1/orgs/{org}/resources");
    let r = owner.create_resource(&org, "x").await;
    let id = r["id"].as_str().expect("id").to_owned();
    let one = format!("{base}/{id}");
    owner.delete(&one).expect(204).await;
    owner.get(&one).expect(404).await;
    owner.delete(&one).expect(404).await;
    let live = owner.get(&base).expect(200).await;
    assert!(live["items"].as_array().is_some_and(Vec::is_empty));
    let all = owner
        .get(&format!("{base}?include_deleted=true"))
        .expect(200)
        .await;
    assert_eq!(all["items"][0]["id"], id.as_str());
    assert!(all["items"][0]["deleted_at"].is_string());
    let restored = owner.post(&format!("{one}/restore")).expect(200).await;
    assert_eq!(restored["deleted_at"], Value::Null);
    assert_eq!(restored["version"], 3);
    owner.get(&one).expect(200).await;

    let audit = owner
        .get(&format!("/v1/orgs/{org}/audit?resource_id={id}"))
        .expect(200)
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
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let bob = app.caller("bob");
    let org_a = alice.create_org("A").await;
    let org_b = bob.create_org("B").await;
    let r = alice.create_resource(&org_a, "secret").await;
    let id = r["id"].as_str().expect("id");
    // Bob owns org B and asks for Alice's resource through it: 404, never the object.
    let theirs = format!("/v1/orgs/{org_b}/resources/{id}");
    let res = bob.get(&theirs).send().await;
    let body = assert_problem(res, 404).await;
    assert!(!body.to_string().contains("secret"));
    for (m, b) in [
        (Method::PATCH, Some(json!({"name": "mine"}))),
        (Method::DELETE, None),
    ] {
        let mut req = bob.request(m, &theirs);
        if let Some(b) = b {
            req = req.json(b);
        }
        assert_eq!(req.status().await, 404);
    }
    // And org A itself does not exist for him.
    assert_eq!(bob.get(&format!("/v1/orgs/{org_a}")).status().await, 404);
}
