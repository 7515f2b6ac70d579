//! The Cognito profile. Token shape: AWS, "Understanding the user pool JWTs: the access token"
//! (`sub`, `token_use: access`, `scope`, `auth_time`, `iss`, `exp`, `iat`, `jti`, `client_id`,
//! `username`, `origin_jti`, `event_id`, `cognito:groups`; no `aud`), which the dev issuer's
//! default shape mints.

use crate::profiles::{idp, outcome, refuses_the_generic_hostile_set, verifier, verify};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::provider::Profile;
use portcullis_dev_issuer::TokenSpec;
use serde_json::json;

const POOL: &str = "eu-west-1_Ab12Cd34E";
const CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
/// The other issuer form of the pool, as a pool configured with `IssuerConfigurationType`
/// "UPDATED" writes it.
const UPDATED: &str = "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E";

fn spec() -> TokenSpec {
    TokenSpec::new("4f7e1a2b-9c3d-4e5f-8a6b-7c8d9e0f1a2b")
        .username("alice")
        .client_id(CLIENT)
        .scopes(["aws.cognito.signin.user.admin", "orgs/read"])
        .groups(["portcullis-admin", "staff"])
}

fn profile(issuer: &str) -> Profile {
    Profile::cognito("eu-west-1", POOL, [CLIENT])
        .issuer(issuer)
        .aliases([UPDATED])
}

#[tokio::test]
async fn access_tokens_of_either_issuer_form_are_accepted() {
    let idp = idp(&format!("/{POOL}")).await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let token = verify(&v, &i.mint_access(&spec())).await.expect("valid");
    assert_eq!(token.groups, ["portcullis-admin", "staff"]);
    assert!(token.platform_admin);
    assert!(token.require_scopes(&["orgs/read"]).is_ok());
    let updated = i.mint_access(&spec().claim("iss", UPDATED));
    let token = verify(&v, &updated).await.expect("the other issuer form");
    assert_eq!(token.claims.iss, UPDATED);
}

#[tokio::test]
async fn a_pool_answers_for_both_issuer_forms_and_fetches_from_the_original() {
    // No issuer given: the profile's own forms. The keys cannot be fetched here; the issuer
    // set is what is under test.
    let v = Verifier::builder()
        .jwks_config(crate::profiles::config())
        .cognito("eu-west-1", POOL, [CLIENT])
        .build()
        .await
        .expect("builds");
    let p = v.providers().next().expect("one provider");
    assert_eq!(
        p.issuer(),
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E"
    );
    assert_eq!(
        p.issuers(),
        [
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E",
            UPDATED
        ]
    );
}

#[tokio::test]
async fn cognito_traps_are_refused() {
    let idp = idp(&format!("/{POOL}")).await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    // ID tokens are signed by the same pool and carry `aud` = the client id.
    let id = i.mint_id(&spec());
    assert_eq!(outcome(&v, &id).await, Err(Rejection::WrongTokenUse));
    let other = i.mint_access(&spec().client_id("another-app-client"));
    assert_eq!(outcome(&v, &other).await, Err(Rejection::WrongClient));
    let no_client = i.mint_access(&spec().omit("client_id"));
    assert_eq!(outcome(&v, &no_client).await, Err(Rejection::WrongClient));
    // An `aud` naming our client does not stand in for `client_id`.
    let aud = i.mint_access(&spec().omit("client_id").claim("aud", CLIENT));
    assert_eq!(outcome(&v, &aud).await, Err(Rejection::WrongClient));
    refuses_the_generic_hostile_set(&v, i, &spec()).await;
}

#[tokio::test]
async fn groups_as_api_gateway_passes_them_are_roles() {
    let idp = idp(&format!("/{POOL}")).await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let joined = i.mint_access(&spec().claim("cognito:groups", "staff,portcullis-admin"));
    let token = verify(&v, &joined).await.expect("valid");
    assert_eq!(token.groups, ["staff", "portcullis-admin"]);
    assert!(token.platform_admin);
    let mistyped = i.mint_access(&spec().claim("cognito:groups", json!({"a": 1})));
    assert_eq!(outcome(&v, &mistyped).await, Err(Rejection::BadClaims));
}

#[tokio::test]
async fn admin_roles_and_roles_claim_are_configurable() {
    let idp = idp(&format!("/{POOL}")).await;
    let v = verifier([profile(idp.issuer_url())
        .roles_claim("custom:roles")
        .admin_roles(["ops"])])
    .await;
    let i = &idp.issuer;
    let t = i.mint_access(&spec().claim("custom:roles", json!(["ops"])));
    let token = verify(&v, &t).await.expect("valid");
    assert_eq!(token.groups, ["ops"]);
    assert!(token.platform_admin);
    // `portcullis-admin` in `cognito:groups` is no longer read, nor an admin role.
    let t = i.mint_access(&spec());
    let token = verify(&v, &t).await.expect("valid");
    assert!(token.groups.is_empty());
    assert!(!token.platform_admin);
}
