//! Auth0 tenants (and their custom domains).
//!
//! The issuer ends in a slash (`https://{tenant}/`). `aud` is the API identifier, a string or,
//! when the client also asked for OpenID scopes, an array that adds
//! `https://{tenant}/userinfo`; that audience alone is a token for Auth0's own userinfo
//! endpoint, not for us. Roles are the RBAC `permissions` array, or a namespaced claim
//! (`https://example.com/roles`) set by an Action.

use crate::jwt::Claims;
use crate::provider::settings::looks_like_id_token;
use crate::provider::{Provider, Settings, check_audience};
use crate::rejection::Rejection;
use std::collections::HashSet;

#[derive(Debug)]
/// An Auth0 tenant (or custom domain): `aud` must hold a configured API identifier.
pub struct Auth0 {
    settings: Settings,
    audiences: HashSet<String>,
}

impl Auth0 {
    /// RBAC's "Add Permissions in the Access Token".
    pub const ROLES_CLAIM: &'static str = "permissions";

    /// The issuer of a tenant or custom domain (`example.eu.auth0.com`), slash included.
    pub fn tenant_issuer(domain: &str) -> String {
        format!("https://{}/", domain.trim_end_matches('/'))
    }

    /// Auth0's own userinfo audience of an issuer: never one of ours.
    pub fn userinfo_audience(issuer: &str) -> String {
        format!("{}/userinfo", issuer.trim_end_matches('/'))
    }

    /// The issuer in `settings` must carry its trailing slash, as Auth0's tokens do.
    pub fn with_settings(settings: Settings, audiences: impl IntoIterator<Item = String>) -> Self {
        Self {
            settings,
            audiences: audiences.into_iter().collect(),
        }
    }
}

impl Provider for Auth0 {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Auth0 ID tokens name the client in `aud` and carry a `nonce` or `at_hash` when the
    /// client sent one; they are refused as ID tokens before the audience is looked at.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        if looks_like_id_token(claims) {
            return Err(Rejection::WrongTokenUse);
        }
        check_audience(claims, &self.audiences)
    }
}
