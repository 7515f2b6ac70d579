//! The Auth0 profile. Token shape: Auth0, "Access Token Profiles" (`access_token_authz`
//! dialect): `iss` `https://{tenant}/` with its trailing slash, `aud` the API identifier plus
//! `https://{tenant}/userinfo` when OpenID scopes were asked for, `azp`, `scope`, RBAC
//! `permissions`; namespaced custom claims (`https://example.com/roles`) from Actions.

use crate::profiles::{idp, outcome, refuses_the_generic_hostile_set, verifier, verify};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::builder::BuildError;
use portcullis_auth::provider::{Kind, Profile};
use portcullis_dev_issuer::{Shape, TokenSpec};
use serde_json::json;

const API: &str = "https://api.example.com";

fn spec() -> TokenSpec {
    TokenSpec::new("auth0|65f1c2d3e4a5b6c7d8e9f0a1")
        .shape(Shape::Auth0)
        .client_id("kbyuFDidLLm280LIwVFiazOqjO3ty8KH")
        .audience(API)
        .scopes(["openid", "profile", "read:orgs"])
        .groups(["read:orgs", "portcullis-admin"])
}

fn profile(issuer: &str) -> Profile {
    Profile::auth0("example.eu.auth0.com", [API]).issuer(issuer)
}

#[tokio::test]
async fn access_tokens_with_either_aud_form_are_accepted() {
    let idp = idp("/").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let token = verify(&v, &i.mint_access(&spec()))
        .await
        .expect("array aud");
    assert_eq!(token.groups, ["read:orgs", "portcullis-admin"]);
    assert!(token.platform_admin);
    assert!(token.require_scopes(&["read:orgs"]).is_ok());
    let single = i.mint_access(&spec().claim("aud", API));
    assert!(verify(&v, &single).await.is_ok(), "string aud");
}

#[tokio::test]
async fn an_issuer_configured_without_its_slash_still_matches_the_tokens() {
    let idp = idp("/").await;
    let url = idp.issuer_url().trim_end_matches('/').to_owned();
    let v = verifier([profile(&url)]).await;
    assert!(verify(&v, &idp.issuer.mint_access(&spec())).await.is_ok());
}

#[tokio::test]
async fn auth0_traps_are_refused() {
    let idp = idp("/").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let userinfo = format!("{}userinfo", idp.issuer_url());
    let only_userinfo = i.mint_access(&spec().claim("aud", json!([userinfo])));
    assert_eq!(
        outcome(&v, &only_userinfo).await,
        Err(Rejection::WrongAudience)
    );
    let other_api = i.mint_access(&spec().audience("https://other.example.com"));
    assert_eq!(outcome(&v, &other_api).await, Err(Rejection::WrongAudience));
    // An ID token: `aud` is the client, and it carries the sign-in's nonce.
    let id = i.mint_access(
        &spec()
            .claim("aud", "kbyuFDidLLm280LIwVFiazOqjO3ty8KH")
            .claim("nonce", "n-0S6_WzA2Mj"),
    );
    assert_eq!(outcome(&v, &id).await, Err(Rejection::WrongTokenUse));
    let no_slash = i.mint_access(&spec().claim("iss", idp.issuer_url().trim_end_matches('/')));
    assert_eq!(outcome(&v, &no_slash).await, Err(Rejection::UnknownIssuer));
    refuses_the_generic_hostile_set(&v, i, &spec()).await;
}

#[tokio::test]
async fn namespaced_role_claims_are_addressable() {
    let idp = idp("/").await;
    let v = verifier([profile(idp.issuer_url()).roles_claim("https://example.com/roles")]).await;
    let t = idp
        .issuer
        .mint_access(&spec().claim("https://example.com/roles", json!(["portcullis-admin"])));
    let token = verify(&v, &t).await.expect("valid");
    assert_eq!(token.groups, ["portcullis-admin"]);
    assert!(token.platform_admin);
}

#[tokio::test]
async fn the_userinfo_audience_cannot_be_configured() {
    let r = Verifier::builder()
        .auth0(
            "example.eu.auth0.com",
            ["https://example.eu.auth0.com/userinfo"],
        )
        .build()
        .await;
    assert!(
        matches!(
            r,
            Err(BuildError::Profile {
                profile: Kind::Auth0,
                field: "audiences",
                ..
            })
        ),
        "{r:?}"
    );
}
