//! The Entra ID profile. Token shapes: Microsoft, "Access token claims reference": v2.0 tokens
//! (`iss` `https://login.microsoftonline.com/{tid}/v2.0`, `aud` the API's client id, `azp`,
//! `ver: "2.0"`) and v1.0 tokens (`iss` `https://sts.windows.net/{tid}/`, `aud` the App ID
//! URI or client id, `appid`, `ver: "1.0"`); both with `tid`, `oid`, `scp` (space-separated),
//! `roles` (app roles). Microsoft Graph tokens carry a `nonce` in the header
//! (AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet#609).

use crate::profiles::{idp, outcome, refuses_the_generic_hostile_set, verifier, verify};
use portcullis_auth::Rejection;
use portcullis_auth::Verifier;
use portcullis_auth::builder::BuildError;
use portcullis_auth::provider::{Kind, Profile};
use portcullis_dev_issuer::{Shape, TokenSpec};
use serde_json::{Value, json};

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const API_CLIENT_ID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
const APP_ID_URI: &str = "api://portcullis";
/// The v1 issuer of the tenant: an alias, never fetched from.
const V1: &str = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/";

fn spec() -> TokenSpec {
    TokenSpec::new("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ")
        .shape(Shape::Entra)
        .tenant(TID)
        .client_id("1950a258-227b-4e31-a9cf-717495945fc2")
        .audience(API_CLIENT_ID)
        .scopes(["access_as_user"])
        .groups(["portcullis-admin"])
}

fn profile(issuer: &str) -> Profile {
    Profile::entra([TID], [API_CLIENT_ID, APP_ID_URI])
        .issuer(issuer)
        .aliases([V1])
}

async fn setup() -> (portcullis_dev_issuer::ControlledIssuer, Verifier) {
    let idp = idp(&format!("/{TID}/v2.0")).await;
    let v = verifier([profile(idp.issuer_url())]).await;
    (idp, v)
}

#[tokio::test]
async fn v2_and_v1_tokens_of_the_tenant_are_accepted() {
    let (idp, v) = setup().await;
    let i = &idp.issuer;
    let token = verify(&v, &i.mint_access(&spec())).await.expect("v2");
    assert_eq!(token.groups, ["portcullis-admin"]);
    assert!(token.platform_admin);
    assert!(token.require_scopes(&["access_as_user"]).is_ok());
    let v1 = spec()
        .shape(Shape::EntraV1)
        .audience(APP_ID_URI)
        .claim("iss", V1);
    let token = verify(&v, &i.mint_access(&v1))
        .await
        .expect("v1, same keys");
    assert_eq!(token.claims.iss, V1);
    // An application token: app roles, no `scp`.
    let app = i.mint_access(
        &spec()
            .scopes(Vec::<String>::new())
            .groups(["Orgs.Read.All"]),
    );
    let token = verify(&v, &app).await.expect("app token");
    assert!(token.claims.scopes.is_empty());
    assert!(!token.platform_admin);
}

#[tokio::test]
async fn entra_traps_are_refused() {
    let (idp, v) = setup().await;
    let i = &idp.issuer;
    // A Graph token: `nonce` in the header, signature over its hash (unverifiable by us).
    let claims = Value::Object(i.access_claims(&spec()));
    let graph_header = json!({"typ": "JWT", "alg": "RS256", "kid": i.current_kid(), "nonce": "Ebs0QFj2YhPLFJ-1ORmfBYZX4r_dJwhxxvGXn2QpD9o"});
    let graph = i.sign_raw(&graph_header, &claims);
    assert_eq!(outcome(&v, &graph).await, Err(Rejection::GraphToken));
    let graph_aud = i.mint_access(&spec().audience("00000003-0000-0000-c000-000000000000"));
    assert_eq!(outcome(&v, &graph_aud).await, Err(Rejection::GraphToken));
    // This tenant's issuer, another tenant's `tid`.
    let other_tid = i.mint_access(&spec().tenant(OTHER_TID));
    assert_eq!(outcome(&v, &other_tid).await, Err(Rejection::WrongTenant));
    let no_tid = i.mint_access(&spec().omit("tid"));
    assert_eq!(outcome(&v, &no_tid).await, Err(Rejection::WrongTenant));
    // Another tenant's issuer is no issuer of ours.
    let other_iss = i.mint_access(&spec().claim(
        "iss",
        format!("https://login.microsoftonline.com/{OTHER_TID}/v2.0"),
    ));
    assert_eq!(outcome(&v, &other_iss).await, Err(Rejection::UnknownIssuer));
    let other_api = i.mint_access(&spec().audience("api://someone-else"));
    assert_eq!(outcome(&v, &other_api).await, Err(Rejection::WrongAudience));
    // An ID token: `aud` the client app, with the sign-in's nonce.
    let id = i.mint_access(
        &spec()
            .audience("1950a258-227b-4e31-a9cf-717495945fc2")
            .claim("nonce", "abc"),
    );
    assert_eq!(outcome(&v, &id).await, Err(Rejection::WrongTokenUse));
    refuses_the_generic_hostile_set(&v, i, &spec()).await;
}

#[tokio::test]
async fn each_tenant_answers_for_its_v1_and_v2_issuers() {
    let v = Verifier::builder()
        .jwks_config(crate::profiles::config())
        .entra([TID, OTHER_TID], [API_CLIENT_ID])
        .build()
        .await
        .expect("builds");
    let mut issuers: Vec<Vec<String>> = v.providers().map(|p| p.issuers()).collect();
    issuers.sort();
    assert_eq!(
        issuers,
        [
            vec![
                format!("https://login.microsoftonline.com/{TID}/v2.0"),
                format!("https://sts.windows.net/{TID}/"),
            ],
            vec![
                format!("https://login.microsoftonline.com/{OTHER_TID}/v2.0"),
                format!("https://sts.windows.net/{OTHER_TID}/"),
            ],
        ]
    );
}

#[tokio::test]
async fn tenants_must_be_tenant_ids() {
    for tenants in [
        vec![],
        vec!["common"],
        vec!["organizations"],
        vec!["contoso.onmicrosoft.com"],
    ] {
        let r = Verifier::builder()
            .entra(tenants.clone(), [API_CLIENT_ID])
            .build()
            .await;
        assert!(
            matches!(
                r,
                Err(BuildError::Profile {
                    profile: Kind::Entra,
                    field: "tenants",
                    ..
                })
            ),
            "{tenants:?}: {r:?}"
        );
    }
}
