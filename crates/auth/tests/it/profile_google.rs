//! The Google profile. Token shape: Google Identity, "OpenID Connect: obtaining user
//! information from the ID token": `iss` `https://accounts.google.com` or
//! `accounts.google.com`, `aud` and `azp` the OAuth client id, `sub`, `email`,
//! `email_verified`, `hd` for Workspace accounts, `at_hash`, `name`. Google's access tokens are
//! opaque, so the ID token is the only JWT there is to accept.

use crate::profiles::{idp, outcome, refuses_the_generic_hostile_set, verifier, verify};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::provider::Profile;
use portcullis_dev_issuer::{Shape, TokenSpec};
use serde_json::json;

const CLIENT: &str = "1234987819200-abcdefg.apps.googleusercontent.com";

fn spec() -> TokenSpec {
    TokenSpec::new("110169484474386276334")
        .shape(Shape::Google)
        .client_id(CLIENT)
        .email("alice@example.com")
        .tenant("example.com")
        .groups(["portcullis-admin"])
}

fn profile(issuer: &str) -> Profile {
    Profile::google([CLIENT])
        .issuer(issuer)
        .hosted_domains(["example.com"])
}

#[tokio::test]
async fn id_tokens_with_and_without_scheme_are_accepted() {
    let idp = idp("").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let token = verify(&v, &i.mint_access(&spec())).await.expect("valid");
    assert_eq!(token.claims.email.as_deref(), Some("alice@example.com"));
    // Google tokens carry no roles: nothing makes an admin.
    assert!(token.groups.is_empty());
    assert!(!token.platform_admin);
    let bare = i.mint_access(&spec().claim("iss", idp.addr.to_string()));
    assert!(verify(&v, &bare).await.is_ok(), "issuer without scheme");
}

#[tokio::test]
async fn the_default_issuer_is_accepted_in_both_spellings() {
    let v = Verifier::builder()
        .jwks_config(crate::profiles::config())
        .google([CLIENT])
        .build()
        .await
        .expect("builds");
    let p = v.providers().next().expect("one provider");
    assert_eq!(
        p.issuers(),
        ["https://accounts.google.com", "accounts.google.com"]
    );
}

#[tokio::test]
async fn google_traps_are_refused() {
    let idp = idp("").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let unverified = i.mint_access(&spec().claim("email_verified", false));
    assert_eq!(
        outcome(&v, &unverified).await,
        Err(Rejection::EmailUnverified)
    );
    let missing = i.mint_access(&spec().omit("email_verified"));
    assert_eq!(outcome(&v, &missing).await, Err(Rejection::EmailUnverified));
    let stringly = i.mint_access(&spec().claim("email_verified", "true"));
    assert_eq!(outcome(&v, &stringly).await, Err(Rejection::BadClaims));
    let other_domain = i.mint_access(&spec().tenant("elsewhere.example"));
    assert_eq!(
        outcome(&v, &other_domain).await,
        Err(Rejection::WrongTenant)
    );
    let consumer = i.mint_access(&spec().omit("hd"));
    assert_eq!(outcome(&v, &consumer).await, Err(Rejection::WrongTenant));
    // Another app's Google sign-in.
    let other_client = i.mint_access(&spec().client_id("999-other.apps.googleusercontent.com"));
    assert_eq!(
        outcome(&v, &other_client).await,
        Err(Rejection::WrongAudience)
    );
    let aud_list =
        i.mint_access(&spec().claim("aud", json!(["999-other.apps.googleusercontent.com"])));
    assert_eq!(outcome(&v, &aud_list).await, Err(Rejection::WrongAudience));
    refuses_the_generic_hostile_set(&v, i, &spec()).await;
}

#[tokio::test]
async fn without_hosted_domains_consumer_accounts_are_accepted() {
    let idp = idp("").await;
    let v = verifier([Profile::google([CLIENT]).issuer(idp.issuer_url())]).await;
    let t = idp.issuer.mint_access(&spec().omit("hd"));
    assert_eq!(outcome(&v, &t).await, Ok(()));
}
