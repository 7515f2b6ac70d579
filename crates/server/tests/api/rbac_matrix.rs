//! Every endpoint against every kind of caller, checked against the table in docs/rbac.md:
//! the test reads the table, so the documentation and the server cannot drift apart.

use crate::support::{Caller, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CALLERS: [&str; 7] = [
    "no token",
    "outsider",
    "viewer",
    "member",
    "admin",
    "owner",
    "platform admin",
];

/// (case, expected status per caller) from the last table of docs/rbac.md.
fn documented_matrix() -> Vec<(String, Vec<u16>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rbac.md");
    let doc = std::fs::read_to_string(path).expect("docs/rbac.md");
    let table = doc
        .split("| case | request |")
        .nth(1)
        .expect("the endpoint table");
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let statuses = cells[3..3 + CALLERS.len()]
                .iter()
                .map(|c| c.parse().expect("a status code"))
                .collect();
            (cells[1].to_owned(), statuses)
        })
        .collect()
}

/// One org as each case finds it: an owner, a second owner, an admin, a member and a viewer;
/// a resource owned by the member and one owned by the owner.
struct World {
    org: String,
    /// One per entry of `CALLERS`.
    callers: Vec<Caller>,
    member_id: String,
    admin_id: String,
    viewer_id: String,
    owner2_id: String,
    member_res: String,
    owner_res: String,
}

async fn world(app: &TestApp, n: usize) -> World {
    let sub = |role: &str| format!("c{n}-{role}");
    let owner = app.caller(&sub("owner"));
    let org = owner.create_org("Acme").await;
    let members = format!("/v1/orgs/{org}/members");
    let mut ids = Vec::new();
    for role in ["admin", "member", "viewer", "owner2"] {
        let r = if role == "owner2" { "owner" } else { role };
        let body = json!({"sub": sub(role), "role": r});
        let m = owner.post(&members).json(body).expect(201).await;
        ids.push(m["user_id"].as_str().expect("user id").to_owned());
    }
    let resources = format!("/v1/orgs/{org}/resources");
    let new = |name: &str| json!({"kind": "doc", "name": name, "data": {"n": 1}});
    let member = app.caller(&sub("member"));
    let member_res = member.post(&resources).json(new("m")).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let owner_res = owner.post(&resources).json(new("o")).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let callers = vec![
        app.anonymous(),
        app.caller(&sub("outsider")),
        app.caller(&sub("viewer")),
        member,
        app.caller(&sub("admin")),
        owner,
        app.admin(&sub("platform")),
    ];
    World {
        org,
        callers,
        admin_id: ids[0].clone(),
        member_id: ids[1].clone(),
        viewer_id: ids[2].clone(),
        owner2_id: ids[3].clone(),
        member_res,
        owner_res,
    }
}

/// Prepares the world for `case` (as the owner) and returns the request to make.
async fn request(w: &World, case: &str) -> (Method, String, Option<Value>) {
    let org = &w.org;
    let owner = &w.callers[5];
    let res = |id: &str| format!("/v1/orgs/{org}/resources/{id}");
    let patch = Some(json!({"name": "renamed"}));
    let add =
        |role: &str| Some(json!({"sub": format!("new-{}", uuid::Uuid::now_v7()), "role": role}));
    match case {
        "me" => (Method::GET, "/v1/me".into(), None),
        "orgs.list" => (Method::GET, "/v1/orgs".into(), None),
        "orgs.create" => (
            Method::POST,
            "/v1/orgs".into(),
            Some(json!({"name": "Mine"})),
        ),
        "org.get" => (Method::GET, format!("/v1/orgs/{org}"), None),
        "org.delete" => (Method::DELETE, format!("/v1/orgs/{org}"), None),
        "org.restore" => {
            owner.delete(&format!("/v1/orgs/{org}")).expect(204).await;
            (Method::POST, format!("/v1/orgs/{org}/restore"), None)
        }
        "members.list" => (Method::GET, format!("/v1/orgs/{org}/members"), None),
        "members.add_viewer" => (
            Method::POST,
            format!("/v1/orgs/{org}/members"),
            add("viewer"),
        ),
        "members.add_admin" => (
            Method::POST,
            format!("/v1/orgs/{org}/members"),
            add("admin"),
        ),
        "members.add_owner" => (
            Method::POST,
            format!("/v1/orgs/{org}/members"),
            add("owner"),
        ),
        "members.demote_member" => (
            Method::PATCH,
            format!("/v1/orgs/{org}/members/{}", w.member_id),
            Some(json!({"role": "viewer"})),
        ),
        "members.demote_admin" => (
            Method::PATCH,
            format!("/v1/orgs/{org}/members/{}", w.admin_id),
            Some(json!({"role": "member"})),
        ),
        "members.remove_viewer" => (
            Method::DELETE,
            format!("/v1/orgs/{org}/members/{}", w.viewer_id),
            None,
        ),
        "members.remove_owner" => (
            Method::DELETE,
            format!("/v1/orgs/{org}/members/{}", w.owner2_id),
            None,
        ),
        "resources.list" => (Method::GET, format!("/v1/orgs/{org}/resources"), None),
        "resources.list_deleted" => (
            Method::GET,
            format!("/v1/orgs/{org}/resources?include_deleted=true"),
            None,
        ),
        "resources.create" => (
            Method::POST,
            format!("/v1/orgs/{org}/resources"),
            Some(json!({"kind": "doc", "name": "new"})),
        ),
        "resources.get" => (Method::GET, res(&w.owner_res), None),
        "resources.patch_own" => (Method::PATCH, res(&w.member_res), patch),
        "resources.patch_other" => (Method::PATCH, res(&w.owner_res), patch),
        "resources.delete_own" => (Method::DELETE, res(&w.member_res), None),
        "resources.delete_other" => (Method::DELETE, res(&w.owner_res), None),
        "resources.restore" => {
            owner.delete(&res(&w.owner_res)).expect(204).await;
            (Method::POST, format!("{}/restore", res(&w.owner_res)), None)
        }
        "audit.org" => (Method::GET, format!("/v1/orgs/{org}/audit"), None),
        "audit.global" => (Method::GET, "/v1/admin/audit".into(), None),
        "sessions.logout" => (Method::POST, "/v1/auth/logout".into(), None),
        "sessions.logout_all" => (Method::POST, "/v1/auth/logout-all".into(), None),
        "admin.revoke_sessions" => (
            Method::POST,
            format!("/v1/admin/users/{}/revoke-sessions", w.member_id),
            None,
        ),
        "admin.disable" => (
            Method::POST,
            format!("/v1/admin/users/{}/disable", w.member_id),
            None,
        ),
        "admin.enable" => (
            Method::POST,
            format!("/v1/admin/users/{}/enable", w.member_id),
            None,
        ),
        "flags.list" => (Method::GET, "/v1/admin/flags".into(), None),
        "flags.set" => (
            Method::PUT,
            "/v1/admin/flags/ws.revalidate_secs".into(),
            Some(json!({"value": 30})),
        ),
        "identities.link" => (
            Method::POST,
            format!("/v1/admin/users/{}/identities", w.member_id),
            Some(json!({"issuer": "https://next.test", "sub": w.member_id})),
        ),
        "links.list" => (Method::GET, format!("/v1/admin/orgs/{org}/links"), None),
        "links.set" => (
            Method::PUT,
            format!("/v1/admin/orgs/{org}/links"),
            Some(
                json!({"issuer": "https://next.test", "claim": "tid", "value": "t", "role": "viewer"}),
            ),
        ),
        other => panic!("docs/rbac.md has a case with no test: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_for_every_caller_matches_the_documented_matrix() {
    let app = TestApp::sqlite().start().await;
    let matrix = documented_matrix();
    assert!(
        matrix.len() >= 25,
        "the table was not found or is incomplete"
    );
    let mut failures = Vec::new();
    let mut n = 0;
    for (case, expected) in &matrix {
        for (who, want) in CALLERS.iter().zip(expected) {
            n += 1;
            let w = world(&app, n).await;
            let (method, path, body) = request(&w, case).await;
            let caller = &w.callers[CALLERS.iter().position(|c| c == who).unwrap_or(0)];
            let mut req = caller.request(method, &path);
            if let Some(body) = body {
                req = req.json(body);
            }
            let got = req.status().await;
            if got != *want {
                failures.push(format!("{case} as {who}: expected {want}, got {got}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every case the test knows is documented.
    let documented: BTreeSet<&str> = matrix.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        documented.len(),
        matrix.len(),
        "duplicate case in docs/rbac.md"
    );
}
