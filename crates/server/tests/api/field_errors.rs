//! Every 400 and 422 a client causes names what was wrong in `errors`: a JSON pointer into the
//! body or the name of a query or path parameter (or header), and the rule, never the value.
//! One test per route with a body and per query parameter; each sends a value that no rule
//! allows and checks that the value appears nowhere in the answer.

use crate::support::{Caller, TestApp, assert_problem, postgres_admin_url};
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// The `errors` of a problem answer with `status`, after checking that `value` (what the
/// client sent) is not repeated anywhere in it.
async fn errors(res: Response, status: u16, value: &str) -> Vec<Value> {
    let mut body = assert_problem(res, status).await;
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    // The request id is random hex: a short numeric value could turn up in it by chance.
    body["request_id"] = Value::Null;
    let text = body.to_string();
    assert!(!text.contains(value), "the value is echoed: {text}");
    errors
}

/// The `errors` of a problem answer with `status`, for a request without a distinctive value
/// (an absent field).
async fn errors_of(res: Response, status: u16) -> Vec<Value> {
    let body = assert_problem(res, status).await;
    body["errors"].as_array().cloned().unwrap_or_default()
}

/// Asserts exactly one error, at `key` (`pointer` or `parameter`) `at`, whose detail
/// contains `rule`.
fn one(errors: &[Value], key: &str, at: &str, rule: &str) {
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0][key], at, "{errors:?}");
    assert!(
        errors[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains(rule)),
        "{errors:?}"
    );
}

/// An owner with an org, the org's id.
async fn with_org(app: &TestApp) -> (Caller, String) {
    let alice = app.caller("alice");
    let org = alice.create_org("Acme").await;
    (alice, org)
}

// --- bodies ---------------------------------------------------------------------------------

#[tokio::test]
async fn create_org_names_the_name_and_its_rule() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let long = "secretname".repeat(21);
    let res = alice
        .post("/v1/orgs")
        .json(json!({ "name": long }))
        .send()
        .await;
    one(
        &errors(res, 422, &long).await,
        "pointer",
        "/name",
        "1 to 200 characters",
    );

    let res = alice
        .post("/v1/orgs")
        .json(json!({ "name": 987654321 }))
        .send()
        .await;
    one(
        &errors(res, 422, "987654321").await,
        "pointer",
        "/name",
        "must be a string",
    );

    let res = alice.post("/v1/orgs").json(json!({})).send().await;
    one(
        &errors_of(res, 422).await,
        "pointer",
        "/name",
        "is required",
    );
}

#[tokio::test]
async fn every_unknown_field_is_named_with_the_accepted_ones() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let body = json!({ "name": "Acme", "nmae": "secret-one", "colour/hue": "secret-two" });
    let res = alice.post("/v1/orgs").json(body).send().await;
    let errors = errors(res, 422, "secret-").await;
    let pointers: Vec<&str> = errors
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    // JSON pointer escapes `/` as `~1`.
    assert_eq!(pointers, ["/colour~1hue", "/nmae"], "{errors:?}");
    for e in &errors {
        assert_eq!(e["detail"], "is not a known field; accepted: name", "{e}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_object_or_not_json_is_named_as_a_whole() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let res = alice
        .post("/v1/orgs")
        .json(json!(["secret-item"]))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-item").await,
        "pointer",
        "",
        "JSON object",
    );

    let res = alice
        .post("/v1/orgs")
        .header("content-type", "application/json")
        .body(r#"{"name": "secret-broken"#)
        .send()
        .await;
    one(
        &errors(res, 400, "secret-broken").await,
        "pointer",
        "",
        "not valid JSON",
    );
}

#[tokio::test]
async fn add_member_names_the_role_and_lists_the_roles() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let members = format!("/v1/orgs/{org}/members");
    let res = alice
        .post(&members)
        .json(json!({ "sub": "bob", "role": "secret-superuser" }))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-superuser").await,
        "pointer",
        "/role",
        "owner, admin, member, viewer",
    );

    let res = alice
        .post(&members)
        .json(json!({ "sub": "bob", "user_id": "secret-id", "role": "member" }))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-id").await,
        "pointer",
        "/user_id",
        "UUID",
    );

    let res = alice
        .post(&members)
        .json(json!({ "role": "member" }))
        .send()
        .await;
    one(
        &errors_of(res, 422).await,
        "pointer",
        "",
        "one of sub and user_id",
    );
}

#[tokio::test]
async fn change_role_names_the_role() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let bob = app.caller("bob");
    let bob_id = bob.id().await;
    alice
        .post(&format!("/v1/orgs/{org}/members"))
        .json(json!({ "user_id": bob_id, "role": "member" }))
        .expect(201)
        .await;
    let res = alice
        .patch(&format!("/v1/orgs/{org}/members/{bob_id}"))
        .json(json!({ "role": 31337 }))
        .send()
        .await;
    one(
        &errors(res, 422, "31337").await,
        "pointer",
        "/role",
        "one of owner",
    );
}

#[tokio::test]
async fn create_resource_names_every_field_at_fault() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let body = json!({ "kind": "Secret Kind", "name": "ok", "data": { "k": "secret\u{0}data" } });
    let res = alice
        .post(&format!("/v1/orgs/{org}/resources"))
        .json(body)
        .send()
        .await;
    let errors = errors(res, 422, "Secret").await;
    let pointers: Vec<&str> = errors
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, ["/kind", "/data"], "{errors:?}");
    assert!(
        errors[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("a-z"))
    );
    assert!(
        errors[1]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("NUL"))
    );
    assert!(!format!("{errors:?}").contains("secret"), "{errors:?}");
}

#[tokio::test]
async fn patch_resource_names_the_name() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let r = alice.create_resource(&org, "doc").await;
    let path = format!("/v1/orgs/{org}/resources/{}", r["id"].as_str().expect("id"));
    let res = alice
        .patch(&path)
        .json(json!({ "name": "   " }))
        .send()
        .await;
    one(
        &errors(res, 422, "\"   \"").await,
        "pointer",
        "/name",
        "not only whitespace",
    );

    let res = alice
        .patch(&path)
        .json(json!({ "name": ["secret-list"] }))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-list").await,
        "pointer",
        "/name",
        "must be a string",
    );
}

#[tokio::test]
async fn a_bad_if_match_names_the_header() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let r = alice.create_resource(&org, "doc").await;
    let path = format!("/v1/orgs/{org}/resources/{}", r["id"].as_str().expect("id"));
    let res = alice
        .patch(&path)
        .if_match("W/\"secret-tag\"")
        .json(json!({ "name": "new" }))
        .send()
        .await;
    one(
        &errors(res, 400, "secret-tag").await,
        "parameter",
        "If-Match",
        "strong entity tag",
    );
}

#[tokio::test]
async fn set_flag_names_the_value_or_the_org() {
    let app = TestApp::sqlite().start().await;
    let root = app.admin("root");
    let res = root
        .put("/v1/admin/flags/mfa.required")
        .json(json!({ "value": "secret-yes" }))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-yes").await,
        "pointer",
        "/value",
        "true or false",
    );

    let res = root
        .put("/v1/admin/flags/mfa.required")
        .json(json!({ "value": true, "org_id": "secret-org" }))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-org").await,
        "pointer",
        "/org_id",
        "UUID",
    );

    // A global-only flag has no per-org value.
    let org = root.create_org("Acme").await;
    let res = root
        .put("/v1/admin/flags/jit.provisioning")
        .json(json!({ "value": true, "org_id": org }))
        .send()
        .await;
    one(
        &errors(res, 422, &org).await,
        "pointer",
        "/org_id",
        "per-org",
    );
}

// --- query parameters -------------------------------------------------------------------------

#[tokio::test]
async fn page_size_is_named_with_its_range() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    for bad in ["0", "101", "4294967296", "twenty"] {
        let res = alice.get(&format!("/v1/orgs?page_size={bad}")).send().await;
        one(
            &errors_of(res, 422).await,
            "parameter",
            "page_size",
            "between 1 and 100",
        );
    }
    // The value must not come back either: a distinctive one.
    let res = alice.get("/v1/orgs?page_size=98765432101").send().await;
    errors(res, 422, "98765432101").await;
}

#[tokio::test]
async fn a_bad_cursor_is_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let res = alice
        .get(&format!("/v1/orgs/{org}/members?cursor=secretcursor"))
        .send()
        .await;
    one(
        &errors(res, 422, "secretcursor").await,
        "parameter",
        "cursor",
        "next_cursor",
    );
}

#[tokio::test]
async fn a_kind_filter_with_nul_is_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let res = alice
        .get(&format!("/v1/orgs/{org}/resources?kind=secret%00kind"))
        .send()
        .await;
    one(
        &errors(res, 422, "secret").await,
        "parameter",
        "kind",
        "NUL",
    );
}

/// PostgreSQL cannot hold NUL in text: a filter with one used to be a database error (500).
#[tokio::test]
async fn text_filters_with_nul_are_422_on_postgres() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let app = TestApp::postgres(&admin).start().await;
    let (alice, org) = with_org(&app).await;
    for (name, path) in [
        ("kind", format!("/v1/orgs/{org}/resources?kind=a%00b")),
        ("action", format!("/v1/orgs/{org}/audit?action=a%00b")),
        (
            "resource_id",
            format!("/v1/orgs/{org}/audit?resource_id=a%00b"),
        ),
    ] {
        let res = alice.get(&path).send().await;
        one(
            &errors(res, 422, "a\\u0000b").await,
            "parameter",
            name,
            "NUL",
        );
    }
}

#[tokio::test]
async fn include_deleted_is_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let res = alice
        .get(&format!(
            "/v1/orgs/{org}/resources?include_deleted=secretyes"
        ))
        .send()
        .await;
    one(
        &errors(res, 422, "secretyes").await,
        "parameter",
        "include_deleted",
        "true or false",
    );
}

#[tokio::test]
async fn since_and_until_are_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    for name in ["since", "until"] {
        let res = alice
            .get(&format!("/v1/orgs/{org}/audit?{name}=secret-yesterday"))
            .send()
            .await;
        one(
            &errors(res, 422, "secret-yesterday").await,
            "parameter",
            name,
            "RFC 3339",
        );
    }
}

#[tokio::test]
async fn action_filter_is_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let res = alice
        .get(&format!("/v1/orgs/{org}/audit?action=secret%00action"))
        .send()
        .await;
    one(
        &errors(res, 422, "secret").await,
        "parameter",
        "action",
        "NUL",
    );
}

#[tokio::test]
async fn resource_id_filter_is_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let res = alice
        .get(&format!("/v1/orgs/{org}/audit?resource_id=secret%00rid"))
        .send()
        .await;
    one(
        &errors(res, 422, "secret").await,
        "parameter",
        "resource_id",
        "NUL",
    );
}

#[tokio::test]
async fn actor_filter_is_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let res = alice
        .get(&format!("/v1/orgs/{org}/audit?actor=secret-actor"))
        .send()
        .await;
    one(
        &errors(res, 422, "secret-actor").await,
        "parameter",
        "actor",
        "UUID",
    );
}

#[tokio::test]
async fn org_id_filter_is_named() {
    let app = TestApp::sqlite().start().await;
    let root = app.admin("root");
    let res = root.get("/v1/admin/audit?org_id=secret-org").send().await;
    one(
        &errors(res, 422, "secret-org").await,
        "parameter",
        "org_id",
        "UUID",
    );

    // The org log is already one org's: the filter belongs to the global log only.
    let org = root.create_org("Acme").await;
    let res = root
        .get(&format!("/v1/orgs/{org}/audit?org_id={org}"))
        .send()
        .await;
    one(
        &errors(res, 422, &org).await,
        "parameter",
        "org_id",
        "global log",
    );
}

#[tokio::test]
async fn unknown_and_repeated_parameters_are_named() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let res = alice
        .get("/v1/orgs?page_sise=secretvalue&secretparam=secretvalue")
        .send()
        .await;
    let unknown = errors(res, 422, "secretvalue").await;
    let names: Vec<&str> = unknown
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(names, ["page_sise", "secretparam"], "{unknown:?}");
    assert_eq!(
        unknown[0]["detail"],
        "is not a known parameter; accepted: page_size, cursor"
    );

    let res = alice
        .get("/v1/orgs?page_size=5&page_size=secretdup")
        .send()
        .await;
    one(
        &errors(res, 422, "secretdup").await,
        "parameter",
        "page_size",
        "only once",
    );
}

// --- path parameters ----------------------------------------------------------------------------

#[tokio::test]
async fn malformed_path_ids_are_named() {
    let app = TestApp::sqlite().start().await;
    let (alice, org) = with_org(&app).await;
    let root = app.admin("root");
    for (caller, method, path, name) in [
        (
            &alice,
            Method::GET,
            "/v1/orgs/secret-org".to_owned(),
            "org_id",
        ),
        (
            &alice,
            Method::GET,
            format!("/v1/orgs/{org}/resources/secret-id"),
            "id",
        ),
        (
            &alice,
            Method::DELETE,
            format!("/v1/orgs/{org}/members/secret-user"),
            "user_id",
        ),
        (
            &root,
            Method::POST,
            "/v1/admin/users/secret-user/disable".to_owned(),
            "user_id",
        ),
    ] {
        let res = caller.request(method, &path).send().await;
        one(
            &errors(res, 400, "secret-").await,
            "parameter",
            name,
            "UUID",
        );
    }
}
