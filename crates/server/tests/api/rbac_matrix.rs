//! Every endpoint against every kind of caller, checked against the table in docs/rbac.md:
//! the test reads the table, so the documentation and the server cannot drift apart.

use crate::tenant::{Tenant, start};
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
    tokens: Vec<Option<String>>,
    member_id: String,
    admin_id: String,
    viewer_id: String,
    owner2_id: String,
    member_res: String,
    owner_res: String,
}

async fn world(t: &Tenant, n: usize) -> World {
    let sub = |role: &str| format!("c{n}-{role}");
    let owner = t.token(&sub("owner"));
    let org = t
        .ok(
            &owner,
            Method::POST,
            "/v1/orgs",
            Some(json!({"name": "Acme"})),
            201,
        )
        .await["id"]
        .as_str()
        .expect("org id")
        .to_owned();
    let members = format!("/v1/orgs/{org}/members");
    let mut ids = Vec::new();
    for role in ["admin", "member", "viewer", "owner2"] {
        let r = if role == "owner2" { "owner" } else { role };
        let body = json!({"sub": sub(role), "role": r});
        let m = t.ok(&owner, Method::POST, &members, Some(body), 201).await;
        ids.push(m["user_id"].as_str().expect("user id").to_owned());
    }
    let resources = format!("/v1/orgs/{org}/resources");
    let new = |name: &str| Some(json!({"kind": "doc", "name": name, "data": {"n": 1}}));
    let member = t.token(&sub("member"));
    let member_res = t.ok(&member, Method::POST, &resources, new("m"), 201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let owner_res = t.ok(&owner, Method::POST, &resources, new("o"), 201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let tokens = vec![
        None,
        Some(t.token(&sub("outsider"))),
        Some(t.token(&sub("viewer"))),
        Some(member),
        Some(t.token(&sub("admin"))),
        Some(owner),
        Some(t.admin_token(&sub("platform"))),
    ];
    World {
        org,
        tokens,
        admin_id: ids[0].clone(),
        member_id: ids[1].clone(),
        viewer_id: ids[2].clone(),
        owner2_id: ids[3].clone(),
        member_res,
        owner_res,
    }
}

/// Prepares the world for `case` (as the owner) and returns the request to make.
async fn request(t: &Tenant, w: &World, case: &str) -> (Method, String, Option<Value>) {
    let org = &w.org;
    let owner = w.tokens[5].clone().unwrap_or_default();
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
            t.ok(
                &owner,
                Method::DELETE,
                &format!("/v1/orgs/{org}"),
                None,
                204,
            )
            .await;
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
            t.ok(&owner, Method::DELETE, &res(&w.owner_res), None, 204)
                .await;
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
        other => panic!("docs/rbac.md has a case with no test: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_for_every_caller_matches_the_documented_matrix() {
    let t = start().await;
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
            let w = world(&t, n).await;
            let (method, path, body) = request(&t, &w, case).await;
            let token = w.tokens[CALLERS.iter().position(|c| c == who).unwrap_or(0)].as_deref();
            let got = t.call(token, method, &path, body).await.status().as_u16();
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
