//! Several issuers in one verifier: each token is checked with the keys of the issuer it
//! names, and only those.

use crate::profiles::{idp, outcome, verifier};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::builder::BuildError;
use portcullis_auth::provider::Profile;
use portcullis_auth::verifier::VerifierError;
use portcullis_dev_issuer::{Shape, TokenSpec};
use serde_json::{Value, json};

#[tokio::test]
async fn a_token_of_one_issuer_signed_with_another_issuers_key_is_refused() {
    let kc = idp("/realms/main").await;
    let okta = idp("/oauth2/default").await;
    let v = verifier([
        Profile::keycloak(kc.issuer_url(), ["portcullis-api"]),
        Profile::okta(okta.issuer_url(), ["api://default"]),
    ])
    .await;
    let kc_spec = TokenSpec::new("alice")
        .shape(Shape::Keycloak)
        .audience("portcullis-api");
    let okta_spec = TokenSpec::new("bob")
        .shape(Shape::Okta)
        .audience("api://default");
    assert_eq!(outcome(&v, &kc.issuer.mint_access(&kc_spec)).await, Ok(()));
    assert_eq!(
        outcome(&v, &okta.issuer.mint_access(&okta_spec)).await,
        Ok(())
    );

    // Keycloak's issuer and claims, Okta's key (and Okta's kid).
    let kc_claims = kc.issuer.access_claims(&kc_spec);
    let t = okta
        .issuer
        .mint_access(&kc_spec.clone().claim("iss", kc.issuer_url()));
    assert_eq!(outcome(&v, &t).await, Err(Rejection::UnknownKid));
    // The same with Keycloak's kid in the header.
    let header = json!({"alg": "RS256", "kid": kc.issuer.current_kid()});
    let t = okta.issuer.sign_raw(&header, &Value::Object(kc_claims));
    assert_eq!(outcome(&v, &t).await, Err(Rejection::BadSignature));
}

#[tokio::test]
async fn two_profiles_claiming_one_issuer_are_refused() {
    let kc = idp("/realms/main").await;
    let r = Verifier::builder()
        .allow_loopback_http(true)
        .keycloak(kc.issuer_url(), ["a"])
        .profile(Profile::oidc("http://127.0.0.1:1/other", ["b"]).aliases([kc.issuer_url()]))
        .build()
        .await;
    assert_eq!(
        r.map(|_| ()),
        Err(BuildError::Verifier(VerifierError::DuplicateIssuer(
            kc.issuer_url().to_owned()
        )))
    );
}

#[tokio::test]
async fn plain_http_issuers_need_the_loopback_opt_in() {
    let kc = idp("/realms/main").await;
    let r = Verifier::builder()
        .keycloak(kc.issuer_url(), ["a"])
        .build()
        .await;
    assert!(
        matches!(
            r,
            Err(BuildError::Profile {
                field: "issuer",
                ..
            })
        ),
        "{r:?}"
    );
}
