//! The Okta profile. Token shape: Okta, "Tokens: access token payload" for a custom
//! authorization server: `ver: 1`, `jti` `AT....`, `iss` `https://{org}/oauth2/{server}`, `aud`
//! (`api://default` for the default server), `cid`, `uid`, `scp` (an array), `auth_time`, `sub`,
//! and `groups` when a groups claim is configured.

use crate::profiles::{idp, outcome, refuses_the_generic_hostile_set, verifier, verify};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::builder::BuildError;
use portcullis_auth::provider::{Kind, Profile};
use portcullis_dev_issuer::{Shape, TokenSpec};

const AUD: &str = "api://default";
const CLIENT: &str = "0oa1b2c3d4E5f6G7h8i9";

fn spec() -> TokenSpec {
    TokenSpec::new("alice@example.com")
        .shape(Shape::Okta)
        .client_id(CLIENT)
        .audience(AUD)
        .scopes(["openid", "orgs.read"])
        .groups(["Everyone", "portcullis-admin"])
}

fn profile(issuer: &str) -> Profile {
    Profile::okta(issuer, [AUD]).client_ids([CLIENT])
}

#[tokio::test]
async fn custom_server_access_tokens_are_accepted() {
    let idp = idp("/oauth2/default").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let token = verify(&v, &idp.issuer.mint_access(&spec()))
        .await
        .expect("valid");
    assert_eq!(token.groups, ["Everyone", "portcullis-admin"]);
    assert!(token.platform_admin);
    assert!(token.require_scopes(&["orgs.read"]).is_ok());
    assert!(token.require_scopes(&["orgs.write"]).is_err());
}

#[tokio::test]
async fn without_client_ids_any_client_of_the_server_is_accepted() {
    let idp = idp("/oauth2/default").await;
    let v = verifier([Profile::okta(idp.issuer_url(), [AUD])]).await;
    let t = idp.issuer.mint_access(&spec().client_id("0oaOtherClient"));
    assert_eq!(outcome(&v, &t).await, Ok(()));
}

#[tokio::test]
async fn okta_traps_are_refused() {
    let idp = idp("/oauth2/default").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let other_client = i.mint_access(&spec().client_id("0oaOtherClient"));
    assert_eq!(
        outcome(&v, &other_client).await,
        Err(Rejection::WrongClient)
    );
    let no_cid = i.mint_access(&spec().omit("cid"));
    assert_eq!(outcome(&v, &no_cid).await, Err(Rejection::WrongClient));
    let other_aud = i.mint_access(&spec().audience("api://other"));
    assert_eq!(outcome(&v, &other_aud).await, Err(Rejection::WrongAudience));
    // An ID token of the same server: `aud` the client, `nonce` and `at_hash`.
    let id = i.mint_access(
        &spec()
            .claim("nonce", "n-0S6")
            .claim("at_hash", "preYEw9yQ4_RuXZWx9J4dQ"),
    );
    assert_eq!(outcome(&v, &id).await, Err(Rejection::WrongTokenUse));
    // The org server's issuer (the same org without `/oauth2/...`).
    let org = i.mint_access(&spec().claim("iss", format!("http://{}", idp.addr)));
    assert_eq!(outcome(&v, &org).await, Err(Rejection::UnknownIssuer));
    refuses_the_generic_hostile_set(&v, i, &spec()).await;
}

#[tokio::test]
async fn the_org_authorization_server_is_a_configuration_error() {
    for issuer in ["https://example.okta.com", "https://example.okta.com/"] {
        let r = Verifier::builder().okta(issuer, [AUD]).build().await;
        assert!(
            matches!(
                r,
                Err(BuildError::Profile {
                    profile: Kind::Okta,
                    field: "issuer",
                    ..
                })
            ),
            "{issuer}: {r:?}"
        );
    }
}
