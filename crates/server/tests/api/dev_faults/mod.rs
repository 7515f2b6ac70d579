//! The dev issuer's faults (`/dev-issuer/faults`, `portcullis dev-fault`) and what the server
//! does with each: new keys picked up, broken tokens refused, a JWKS outage lived through on
//! the cached keys, a persona's sessions revoked.

mod cli;
mod jwks;
mod keys;
mod page;
mod sessions;
mod tokens;

use crate::support::TestApp;
use portcullis_dev_issuer::DevIssuer;
use serde_json::{Value, json};

/// Applies a fault through the JSON face of the faults endpoint; returns the state after it.
pub async fn fault(app: &TestApp, body: Value) -> Value {
    let res = app
        .client
        .post(app.url("/dev-issuer/faults"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{body}: {text}");
    serde_json::from_str(&text).expect("the faults' state")
}

pub async fn state(app: &TestApp) -> Value {
    app.client
        .get(app.url("/dev-issuer/faults"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("the faults' state")
}

/// The server's issuer as its key file holds it now (the test's own copy from the start does
/// not see rotations made inside the server).
pub fn reopened(app: &TestApp) -> DevIssuer {
    DevIssuer::open(&app.config().data_dir, app.issuer().issuer_url().to_owned())
        .expect("the app's key file")
}

/// The kids the issuer's JWKS endpoint publishes.
pub async fn published(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .client
        .get(app.url("/dev-issuer/.well-known/jwks.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JWKS");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

pub fn rotate() -> Value {
    json!({"fault": "rotate-key"})
}
