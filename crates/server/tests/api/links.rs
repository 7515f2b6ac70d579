//! Org roles from the provider: a platform admin links an org to a claim value (here Entra's
//! `tid`), and a token carrying it makes its user a member with the linked role on the first
//! request; the membership goes with the claim; memberships made by hand stay as they are.

use crate::support::{TestApp, assert_problem};
use portcullis_dev_issuer::TokenSpec;
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn entra(app: &TestApp, sub: &str, tid: Option<&str>) -> crate::support::Caller {
    let mut spec = TokenSpec::new(sub).username(sub);
    if let Some(tid) = tid {
        spec = spec.claim("tid", tid);
    }
    app.caller_with(spec)
}

fn role_in(me: &Value, org: &str) -> Option<String> {
    me["memberships"]
        .as_array()?
        .iter()
        .find(|m| m["org_id"] == org)
        .and_then(|m| m["role"].as_str())
        .map(str::to_owned)
}

async fn audit_actions(app: &TestApp, org: &str) -> Vec<(String, String)> {
    let body = app
        .admin("root")
        .get(&format!("/v1/orgs/{org}/audit?page_size=100"))
        .expect(200)
        .await;
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .rev()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["resource_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_linked_tenant_makes_members_and_takes_them_away_with_the_claim() {
    let app = TestApp::sqlite().start().await;
    let root = app.admin("root");
    let org = root.create_org("Contoso").await;
    let iss = app.issuer().issuer_url().to_owned();
    let link = root
        .put(&format!("/v1/admin/orgs/{org}/links"))
        .json(json!({"issuer": iss, "claim": "tid", "value": TENANT, "role": "member"}))
        .expect(200)
        .await;
    assert_eq!(link["role"], "member");
    assert_eq!(link["org_id"], org.as_str());

    // First request: a member with the linked role, allowed into the org.
    let erin = entra(&app, "erin", Some(TENANT));
    let me = erin.get("/v1/me").expect(200).await;
    let erin_id = me["id"].as_str().expect("id").to_owned();
    assert_eq!(role_in(&me, &org).as_deref(), Some("member"));
    erin.get(&format!("/v1/orgs/{org}")).expect(200).await;

    // Another tenant's user is not.
    let other = entra(&app, "mallory", Some("another-tenant"));
    let me = other.get("/v1/me").expect(200).await;
    assert_eq!(role_in(&me, &org), None);

    // A new token of Erin's without the claim: the membership goes at once.
    let erin_gone = entra(&app, "erin", None);
    let me = erin_gone.get("/v1/me").expect(200).await;
    assert_eq!(me["id"], erin_id.as_str());
    assert_eq!(role_in(&me, &org), None);
    erin_gone.get(&format!("/v1/orgs/{org}")).expect(404).await;

    let actions = audit_actions(&app, &org).await;
    let erins: Vec<&str> = actions
        .iter()
        .filter(|(_, id)| *id == erin_id)
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(erins, ["membership.linked", "membership.unlinked"]);
    assert!(actions.iter().any(|(a, _)| a == "org.link"));
}

#[tokio::test]
async fn a_hand_made_membership_is_untouched_by_links() {
    let app = TestApp::sqlite().start().await;
    let root = app.admin("root");
    let org = root.create_org("Contoso").await;
    let iss = app.issuer().issuer_url().to_owned();
    // Frank is a viewer by hand before any link exists.
    let frank = entra(&app, "frank", None);
    let frank_id = frank.id().await;
    root.post(&format!("/v1/orgs/{org}/members"))
        .json(json!({"user_id": frank_id, "role": "viewer"}))
        .expect(201)
        .await;
    root.put(&format!("/v1/admin/orgs/{org}/links"))
        .json(json!({"issuer": iss, "claim": "tid", "value": TENANT, "role": "admin"}))
        .expect(200)
        .await;

    let with_claim = entra(&app, "frank", Some(TENANT));
    let me = with_claim.get("/v1/me").expect(200).await;
    assert_eq!(role_in(&me, &org).as_deref(), Some("viewer"));
    let without = entra(&app, "frank", None);
    let me = without.get("/v1/me").expect(200).await;
    assert_eq!(role_in(&me, &org).as_deref(), Some("viewer"));
    let actions = audit_actions(&app, &org).await;
    assert!(
        !actions.iter().any(|(a, id)| a.starts_with("membership.")
            && a != "membership.add"
            && *id == frank_id),
        "{actions:?}"
    );
}

#[tokio::test]
async fn links_are_listed_upserted_and_refused_with_field_errors() {
    let app = TestApp::sqlite().start().await;
    let root = app.admin("root");
    let org = root.create_org("Contoso").await;
    let path = format!("/v1/admin/orgs/{org}/links");
    let body = |role: &str| json!({"issuer": "https://login.test/t/v2.0", "claim": "tid", "value": "T1", "role": role});
    root.put(&path).json(body("viewer")).expect(200).await;
    root.put(&path).json(body("admin")).expect(200).await;
    root.put(&path)
        .json(json!({"issuer": "https://login.test/t/v2.0", "claim": "groups", "value": "ops", "role": "member"}))
        .expect(200)
        .await;
    let list = root.get(&path).expect(200).await;
    let items: Vec<(String, String)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| {
            (
                l["claim"].as_str().unwrap_or_default().to_owned(),
                l["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("groups".to_owned(), "member".to_owned()),
            ("tid".to_owned(), "admin".to_owned())
        ]
    );

    // Only platform admins.
    let owner = app.caller("owner");
    let own_org = owner.create_org("Mine").await;
    let res = owner
        .put(&format!("/v1/admin/orgs/{own_org}/links"))
        .json(body("member"))
        .send()
        .await;
    assert_problem(res, 403).await;
    let res = owner
        .get(&format!("/v1/admin/orgs/{own_org}/links"))
        .send()
        .await;
    assert_problem(res, 403).await;

    // An owner link, an empty claim, a missing field: 422 naming the field.
    for (bad, field) in [
        (body("owner"), "/role"),
        (
            json!({"issuer": "https://i.test", "claim": "", "value": "v", "role": "member"}),
            "/claim",
        ),
        (
            json!({"issuer": "", "claim": "tid", "value": "v", "role": "member"}),
            "/issuer",
        ),
        (
            json!({"issuer": "https://i.test", "claim": "tid", "role": "member"}),
            "/value",
        ),
    ] {
        let res = root.put(&path).json(bad).send().await;
        let problem = assert_problem(res, 422).await;
        let pointers: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect();
        assert_eq!(pointers, [field], "{problem}");
    }

    // An unknown or deleted org.
    let res = root
        .put("/v1/admin/orgs/0191d1a0-0000-7000-8000-000000000000/links")
        .json(body("member"))
        .send()
        .await;
    assert_problem(res, 404).await;
    root.delete(&format!("/v1/orgs/{own_org}"))
        .expect(204)
        .await;
    let res = root
        .put(&format!("/v1/admin/orgs/{own_org}/links"))
        .json(body("member"))
        .send()
        .await;
    assert_problem(res, 404).await;
}
