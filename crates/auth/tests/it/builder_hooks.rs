//! What a configuration loader and a server use of the builder: checking a profile alone, a
//! layer around every issuer's key source, and key loads left to the background.

use crate::profiles::{config, idp};
use portcullis_auth::Verifier;
use portcullis_auth::builder::{BuildError, KeyLayer};
use portcullis_auth::provider::{Kind, Profile};
use portcullis_dev_issuer::{Shape, TokenSpec};
use std::sync::{Arc, Mutex};

fn field(r: Result<(), BuildError>) -> Option<&'static str> {
    match r {
        Err(BuildError::Profile { field, .. }) => Some(field),
        _ => None,
    }
}

#[test]
fn check_names_the_setting_a_profile_breaks() {
    let org_server = Profile::okta("https://example.okta.com", ["api://default"]);
    assert_eq!(field(org_server.check(false)), Some("issuer"));
    let custom = Profile::okta("https://example.okta.com/oauth2/default", ["api://default"]);
    assert_eq!(custom.check(false), Ok(()));
    let loopback = Profile::keycloak("http://127.0.0.1:9/realms/main", ["api"]);
    assert_eq!(field(loopback.clone().check(false)), Some("issuer"));
    assert_eq!(loopback.check(true), Ok(()));
    let entra = Profile::entra(["common"], ["api"]);
    assert!(matches!(
        entra.check(false),
        Err(BuildError::Profile {
            profile: Kind::Entra,
            field: "tenants",
            ..
        })
    ));
}

#[tokio::test]
async fn the_key_layer_wraps_each_issuers_key_source() {
    let keycloak = idp("/realms/main").await;
    let url = keycloak.issuer_url().to_owned();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let v = Verifier::builder()
        .allow_loopback_http(true)
        .jwks_config(config())
        .key_layer(KeyLayer::new(move |issuer, source| {
            record.lock().expect("lock").push(issuer.to_owned());
            source
        }))
        .load_in_background(true)
        .profile(Profile::keycloak(url.clone(), ["api://portcullis"]))
        .build()
        .await
        .expect("builds");
    assert_eq!(*seen.lock().expect("lock"), [url]);
    for _ in 0..100 {
        if v.keys_ready() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(v.keys_ready(), "the background load fetched the keys");
    let token = keycloak
        .issuer
        .mint_access(&TokenSpec::new("kim").shape(Shape::Keycloak));
    assert!(v.verify(&token).await.is_ok());
}
