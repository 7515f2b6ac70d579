//! The operator console (`/console`), signed in through the dev identity provider with a real
//! browser-like client: sessions and their security, who sees what, each page, each action.

mod access;
mod actions;
mod browser;
mod pages;
mod security;

use crate::support::{Caller, TestApp};
use browser::Browser;
use portcullis::config::{Persona, PersonaMembership};

/// `portcullis dev` on SQLite, with one more persona: `ops`, admin of the default org Acme.
pub async fn app() -> TestApp {
    TestApp::sqlite()
        .dev_mode()
        .with_config(|c| {
            c.dev.personas.push(Persona {
                sub: "ops".into(),
                username: Some("ops".into()),
                email: None,
                groups: Vec::new(),
                memberships: vec![PersonaMembership {
                    org: "Acme".into(),
                    role: "admin".into(),
                }],
                mfa: None,
                totp_secret: None,
            });
        })
        .start()
        .await
}

/// A persona's own API caller (same issuer and sub as the console's sign-in).
pub fn persona(app: &TestApp, sub: &str) -> Caller {
    app.caller(sub)
}

/// The id of the org Acme, which the dev personas are seeded into.
pub async fn acme(app: &TestApp) -> String {
    let me = app.admin("dev-admin").get("/v1/me").expect(200).await;
    me["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .find(|m| m["org_name"] == "Acme")
        .and_then(|m| m["org_id"].as_str())
        .expect("dev-admin is in Acme")
        .to_owned()
}

pub async fn signed_in(app: &TestApp, persona: &str) -> Browser {
    let b = Browser::new(app);
    let page = b.sign_in(persona).await;
    assert_eq!(
        page.status, 200,
        "{persona} lands on the console: {}",
        page.body
    );
    b
}
