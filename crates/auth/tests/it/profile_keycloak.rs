//! The Keycloak profile. Token shape: a Keycloak access token as the server's default client
//! scopes and mappers produce it (Server Administration Guide, "Protocol mappers"): `typ:
//! "Bearer"`, `azp`, `aud` [audience-mapper audience, `account`], `realm_access.roles`,
//! `resource_access.{client}.roles`, `scope`, `preferred_username`, `email_verified`.

use crate::profiles::{idp, outcome, refuses_the_generic_hostile_set, verifier, verify};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::builder::BuildError;
use portcullis_auth::provider::{Kind, Profile};
use portcullis_dev_issuer::{Shape, TokenSpec};
use serde_json::json;

const API: &str = "portcullis-api";
/// The realm as reached inside the container network: an alias nothing can be fetched from.
const INTERNAL: &str = "http://keycloak:8080/realms/main";

fn spec() -> TokenSpec {
    TokenSpec::new("f1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
        .shape(Shape::Keycloak)
        .username("alice")
        .client_id("portcullis-web")
        .audience(API)
        .scopes(["openid", "email", "profile"])
        .groups(["default-roles-main", "portcullis-admin"])
}

fn profile(issuer: &str) -> Profile {
    Profile::keycloak(issuer, [API]).aliases([INTERNAL])
}

#[tokio::test]
async fn access_tokens_of_the_realm_and_its_aliases_are_accepted() {
    let idp = idp("/realms/main").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    let token = verify(&v, &i.mint_access(&spec())).await.expect("valid");
    assert_eq!(token.groups, ["default-roles-main", "portcullis-admin"]);
    assert!(token.platform_admin);
    let fetched = idp.fetches();
    let internal = i.mint_access(&spec().claim("iss", INTERNAL));
    let token = verify(&v, &internal).await.expect("alias");
    assert_eq!(token.claims.iss, INTERNAL);
    assert_eq!(
        idp.fetches(),
        fetched,
        "the alias's keys are the canonical issuer's"
    );
}

#[tokio::test]
async fn keycloak_traps_are_refused() {
    let idp = idp("/realms/main").await;
    let v = verifier([profile(idp.issuer_url())]).await;
    let i = &idp.issuer;
    // Keycloak's default audience alone, or no audience at all.
    let account = i.mint_access(&spec().claim("aud", "account"));
    assert_eq!(outcome(&v, &account).await, Err(Rejection::WrongAudience));
    let no_aud = i.mint_access(&spec().omit("aud"));
    assert_eq!(outcome(&v, &no_aud).await, Err(Rejection::WrongAudience));
    // ID and refresh tokens of the realm, told apart by `typ`.
    for typ in ["ID", "Refresh"] {
        let t = i.mint_access(&spec().claim("typ", typ));
        assert_eq!(
            outcome(&v, &t).await,
            Err(Rejection::WrongTokenUse),
            "{typ}"
        );
    }
    let at_hash = i.mint_access(&spec().claim("at_hash", "x1Zq"));
    assert_eq!(outcome(&v, &at_hash).await, Err(Rejection::WrongTokenUse));
    // The realm under another host name nobody configured.
    let elsewhere = i.mint_access(&spec().claim("iss", "http://attacker:8080/realms/main"));
    assert_eq!(outcome(&v, &elsewhere).await, Err(Rejection::UnknownIssuer));
    let flat = i.mint_access(&spec().claim("realm_access", "portcullis-admin"));
    assert_eq!(outcome(&v, &flat).await, Err(Rejection::BadClaims));
    refuses_the_generic_hostile_set(&v, i, &spec()).await;
}

#[tokio::test]
async fn client_roles_are_read_through_a_path_even_when_the_client_id_has_dots() {
    let idp = idp("/realms/main").await;
    let v =
        verifier([profile(idp.issuer_url()).roles_claim("resource_access.portcullis.api.roles")])
            .await;
    let t = idp.issuer.mint_access(&spec().claim(
        "resource_access",
        json!({"portcullis.api": {"roles": ["portcullis-admin"]}, "account": {"roles": ["view-profile"]}}),
    ));
    let token = verify(&v, &t).await.expect("valid");
    assert_eq!(token.groups, ["portcullis-admin"]);
    assert!(token.platform_admin);
}

#[tokio::test]
async fn account_is_not_an_audience_to_configure() {
    let r = Verifier::builder()
        .keycloak("https://sso.example.com/realms/main", ["account"])
        .build()
        .await;
    assert!(
        matches!(
            r,
            Err(BuildError::Profile {
                profile: Kind::Keycloak,
                field: "audiences",
                ..
            })
        ),
        "{r:?}"
    );
}
