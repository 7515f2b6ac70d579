//! The persona seed: users, orgs and memberships exist after `portcullis dev` starts, the same
//! ones after a second start (no duplicates), audited as the dev seed, with the audit chain
//! intact (checked when each app is dropped). Bad persona settings are refused by name.

use super::*;
use portcullis::config::{Persona, PersonaMembership};

fn persona(sub: &str, org: &str, role: &str) -> Persona {
    Persona {
        sub: sub.into(),
        username: None,
        email: Some(format!("{sub}@globex.test")),
        groups: vec!["qa".into()],
        memberships: vec![PersonaMembership {
            org: org.into(),
            role: role.into(),
        }],
        mfa: None,
        totp_secret: None,
    }
}

/// (org name, [(sub, role)]) of every org the owners see, members sorted.
async fn world(app: &TestApp) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for owner in ["dev-admin", "ceo"] {
        let caller = app.caller(owner);
        let orgs: Value = caller.get("/v1/orgs").expect(200).await;
        for org in orgs["items"].as_array().expect("items") {
            let id = org["id"].as_str().expect("id");
            let members: Value = caller
                .get(&format!("/v1/orgs/{id}/members"))
                .expect(200)
                .await;
            let mut list: Vec<(String, String)> = members["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|m| {
                    (
                        m["sub"].as_str().unwrap_or_default().to_owned(),
                        m["role"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            list.sort();
            out.push((org["name"].as_str().unwrap_or_default().to_owned(), list));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn personas_are_seeded_once_and_again_without_duplicates() {
    seeded_twice(TestApp::sqlite()).await;
}

#[tokio::test]
async fn personas_are_seeded_once_and_again_on_postgres() {
    let Some(url) = crate::support::postgres_admin_url() else {
        return;
    };
    seeded_twice(TestApp::postgres(&url)).await;
}

async fn seeded_twice(builder: crate::support::TestAppBuilder) {
    let mut app = builder
        .dev_mode()
        .with_config(|c| {
            // One issuer URL for both starts (the default names the port, which changes).
            c.auth.issuer = Some("http://portcullis.test/dev-issuer".into());
            c.dev.personas = vec![
                persona("ceo", "Globex", "owner"),
                persona("intern", "Globex", "viewer"),
            ];
        })
        .start()
        .await;
    let first = world(&app).await;
    let pair = |s: &str, r: &str| (s.to_owned(), r.to_owned());
    assert_eq!(
        first,
        [
            (
                "Acme".to_owned(),
                vec![
                    pair("dev-admin", "owner"),
                    pair("dev-member", "member"),
                    pair("dev-mfa", "admin")
                ]
            ),
            (
                "Globex".to_owned(),
                vec![pair("ceo", "owner"), pair("intern", "viewer")]
            ),
        ]
    );
    let audit = |app: &TestApp| {
        let admin = app.admin("dev-admin");
        async move {
            let rows: Value = admin.get("/v1/admin/audit?page_size=100").expect(200).await;
            rows["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|r| r["request_id"] == "dev-seed")
                .count()
        }
    };
    let seeded_rows = audit(&app).await;
    assert!(
        seeded_rows >= 5,
        "orgs and memberships are audited as the dev seed: {seeded_rows}"
    );

    // A second start on the same database and configuration writes nothing new.
    let config = app.config().clone();
    app.stop().await.expect("stops");
    let again = app.instance(&config).await;
    assert_eq!(world(&again).await, first);
    assert_eq!(audit(&again).await, seeded_rows, "nothing re-seeded");

    // The configured personas are there, with their orgs, for their own tokens too.
    let ceo = again.caller("ceo");
    let me: Value = ceo.get("/v1/me").expect(200).await;
    assert_eq!(me["email"], "ceo@globex.test");
    assert_eq!(me["memberships"][0]["org_name"], "Globex");
    assert_eq!(me["memberships"][0]["role"], "owner");
}

#[test]
fn bad_persona_and_client_settings_are_named() {
    use figment::providers::{Format, Toml};
    for (toml, setting) in [
        (
            "[[dev.personas]]\nsub = \"x\"\nmfa = \"totp\"\ntotp_secret = \"not base32!\"\nmemberships = []",
            "dev.personas[0].totp_secret",
        ),
        (
            "[[dev.personas]]\nsub = \"x\"\nmfa = \"sms\"",
            "dev.personas[0].mfa",
        ),
        (
            "[[dev.personas]]\nsub = \"x\"\nmemberships = [{org = \"Initech\", role = \"admin\"}]",
            "dev.personas",
        ),
        (
            "[[dev.personas]]\nsub = \"x\"\nmemberships = [{org = \"Acme\", role = \"boss\"}]",
            "dev.personas[0].memberships[0].role",
        ),
        (
            "[[dev.clients]]\nclient_id = \"web\"\nredirect_uris = [\"https://a.test/cb#x\"]",
            "dev.clients[0].redirect_uris[0]",
        ),
        (
            "[[dev.clients]]\nclient_id = \"web\"\nredirect_uris = []",
            "dev.clients[0].redirect_uris",
        ),
        (
            "[[dev.clients]]\nclient_id = \"web\"\nredirect_uris = [\"https://a.test/cb\"]\ngrant_types = [\"password\"]",
            "dev.clients[0].grant_types",
        ),
    ] {
        let fig = figment::Figment::from(figment::providers::Serialized::defaults(
            portcullis::config::Config::default(),
        ))
        .merge(Toml::string(toml));
        let err = portcullis::config::from_figment(&fig).expect_err(toml);
        assert_eq!(err.setting, setting, "{toml}: {err}");
    }
}
