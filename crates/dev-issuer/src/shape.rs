//! Whose claim shape a minted token has: Cognito's (the default) or that of another provider,
//! so tests and `portcullis token --profile ...` can produce what each provider sends. Each
//! shape follows the provider's own documentation of its access token (Google: its ID token,
//! the only JWT Google issues); the sources are named on each variant.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::issuer::{DevIssuer, unix_now};
use crate::mint::{TokenSpec, username};

/// The audience of non-Cognito shapes unless the spec names one.
pub const DEFAULT_AUDIENCE: &str = "api://portcullis";
/// The Entra tenant id of the Entra shapes unless the spec names one.
pub const DEFAULT_TENANT_ID: &str = "7c1e2f4a-0b3d-4e5f-8a9b-1c2d3e4f5a6b";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// Cognito user pool access token (`token_use`, `client_id`, `cognito:groups`; no `aud`).
    /// AWS, "Understanding the access token".
    #[default]
    Cognito,
    /// Auth0 access token in the `access_token_authz` dialect: `aud` the API plus the tenant's
    /// userinfo endpoint, `azp`, `scope`, RBAC `permissions`. Auth0, "Access Token Profiles".
    Auth0,
    /// Entra ID v2.0 access token: `aud` the API, `tid`, `oid`, `azp`, `scp` (space-separated),
    /// `roles`, `ver: "2.0"`. Microsoft, "Access token claims reference".
    Entra,
    /// Entra ID v1.0 access token: as v2 but `appid` instead of `azp` and `ver: "1.0"`; its
    /// issuer is `https://sts.windows.net/{tid}/` (set `iss` with [`TokenSpec::claim`]).
    EntraV1,
    /// Keycloak access token: `typ: "Bearer"`, `azp`, `aud` [API, `account`],
    /// `realm_access.roles`, `resource_access.account.roles`, `scope`, `preferred_username`.
    /// Keycloak Server Administration Guide, "Protocol mappers" and its sample tokens.
    Keycloak,
    /// Okta custom authorization server access token: `ver: 1`, `cid`, `uid`, `scp` (array),
    /// `groups`. Okta, "Tokens: Access token payload".
    Okta,
    /// Google ID token: `aud` and `azp` the OAuth client, `email`, `email_verified`, `hd` when
    /// the spec names a tenant. Google Identity, "OpenID Connect: an ID token's payload".
    Google,
    /// An RFC 9068 access token of a generic OpenID provider: `typ: at+jwt` header, `aud`,
    /// `client_id`, `scope`, `groups`.
    Oidc,
}

impl Shape {
    pub const ALL: [Shape; 8] = [
        Shape::Cognito,
        Shape::Auth0,
        Shape::Entra,
        Shape::EntraV1,
        Shape::Keycloak,
        Shape::Okta,
        Shape::Google,
        Shape::Oidc,
    ];

    /// The name used on command lines.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Shape::Cognito => "cognito",
            Shape::Auth0 => "auth0",
            Shape::Entra => "entra",
            Shape::EntraV1 => "entra-v1",
            Shape::Keycloak => "keycloak",
            Shape::Okta => "okta",
            Shape::Google => "google",
            Shape::Oidc => "oidc",
        }
    }

    /// The JOSE header `typ`: Cognito sends none, RFC 9068 issuers `at+jwt`, the rest `JWT`.
    pub(crate) fn typ(self) -> Option<&'static str> {
        match self {
            Shape::Cognito => None,
            Shape::Oidc => Some("at+jwt"),
            _ => Some("JWT"),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name no shape has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown token shape; expected one of cognito, auth0, entra, entra-v1, keycloak, okta, google, oidc"
)]
pub struct UnknownShape;

impl FromStr for Shape {
    type Err = UnknownShape;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Shape::ALL
            .into_iter()
            .find(|shape| shape.name() == s)
            .ok_or(UnknownShape)
    }
}

impl DevIssuer {
    /// The claims of a non-Cognito token for `spec`, before `extra` and `omit` apply.
    pub(crate) fn shaped_claims(&self, spec: &TokenSpec) -> Map<String, Value> {
        let iat = spec.issued_at.unwrap_or_else(unix_now);
        let ttl = i64::try_from(spec.ttl.as_secs()).unwrap_or(i64::MAX);
        let exp = iat.saturating_add(ttl);
        let jti = spec
            .jti
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let audience = spec.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE);
        let scopes = spec.scopes.join(" ");
        let user = username(spec);
        let email = spec
            .email
            .clone()
            .unwrap_or_else(|| format!("{user}@example.com"));
        let iss = self.issuer_url();
        let mut c = Map::new();
        let mut put = |k: &str, v: Value| {
            c.insert(k.to_owned(), v);
        };
        put("iss", json!(iss));
        put("sub", json!(spec.sub));
        put("iat", json!(iat));
        put("exp", json!(exp));
        match spec.shape {
            Shape::Cognito => {}
            Shape::Auth0 => {
                let userinfo = format!("{}/userinfo", iss.trim_end_matches('/'));
                put("aud", json!([audience, userinfo]));
                put("azp", json!(spec.client_id));
                put("scope", json!(scopes));
                put("jti", json!(jti));
                put("permissions", json!(spec.groups));
            }
            Shape::Entra | Shape::EntraV1 => {
                let tid = spec.tenant.as_deref().unwrap_or(DEFAULT_TENANT_ID);
                put("aud", json!(audience));
                put("nbf", json!(iat));
                put("tid", json!(tid));
                put("oid", json!(stable_guid(&spec.sub)));
                put("uti", json!(jti));
                put("preferred_username", json!(email));
                put("name", json!(user));
                if !spec.scopes.is_empty() {
                    put("scp", json!(scopes));
                }
                if !spec.groups.is_empty() {
                    put("roles", json!(spec.groups));
                }
                if spec.shape == Shape::Entra {
                    put("azp", json!(spec.client_id));
                    put("azpacr", json!("1"));
                    put("ver", json!("2.0"));
                } else {
                    put("appid", json!(spec.client_id));
                    put("appidacr", json!("1"));
                    put("ver", json!("1.0"));
                }
            }
            Shape::Keycloak => {
                put("jti", json!(jti));
                put("auth_time", json!(spec.auth_time.unwrap_or(iat)));
                put("aud", json!([audience, "account"]));
                put("typ", json!("Bearer"));
                put("azp", json!(spec.client_id));
                put("scope", json!(scopes));
                put("realm_access", json!({ "roles": spec.groups }));
                put(
                    "resource_access",
                    json!({ "account": { "roles": ["manage-account", "view-profile"] } }),
                );
                put("preferred_username", json!(user));
                put("email", json!(email));
                put("email_verified", json!(true));
            }
            Shape::Okta => {
                put("ver", json!(1));
                put("jti", json!(format!("AT.{jti}")));
                put("aud", json!(audience));
                put("cid", json!(spec.client_id));
                put("uid", json!(format!("00u{}", &jti[..jti.len().min(17)])));
                put("scp", json!(spec.scopes));
                put("auth_time", json!(spec.auth_time.unwrap_or(iat)));
                if !spec.groups.is_empty() {
                    put("groups", json!(spec.groups));
                }
            }
            Shape::Google => {
                put("aud", json!(spec.client_id));
                put("azp", json!(spec.client_id));
                put("email", json!(email));
                put("email_verified", json!(true));
                put("name", json!(user));
                put("at_hash", json!(stable_guid(&jti).replace('-', "")));
                if let Some(hd) = &spec.tenant {
                    put("hd", json!(hd));
                }
            }
            Shape::Oidc => {
                put("jti", json!(jti));
                put("aud", json!(audience));
                put("client_id", json!(spec.client_id));
                put("scope", json!(scopes));
                put("auth_time", json!(spec.auth_time.unwrap_or(iat)));
                if !spec.groups.is_empty() {
                    put("groups", json!(spec.groups));
                }
            }
        }
        if let Some(amr) = &spec.amr {
            c.insert("amr".into(), json!(amr));
        }
        c
    }
}

/// A GUID-shaped id derived from `seed`, so one subject keeps one `oid` across tokens.
fn stable_guid(seed: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let hex: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
