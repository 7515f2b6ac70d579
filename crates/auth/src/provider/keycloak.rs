//! Keycloak realms.
//!
//! The issuer is `{base}/realms/{realm}`, derived from the host name Keycloak was reached by,
//! so the same realm's tokens may carry several spellings (`localhost` outside a container
//! network, the service name inside): those are aliases, and keys are fetched from the
//! canonical issuer only. Roles are nested: `realm_access.roles`, or
//! `resource_access.{client}.roles` for a client's roles. `aud` defaults to `account` (Keycloak's
//! account console) unless an audience mapper adds the API; `account` is never one of ours.
//! The `typ` claim tells token kinds apart: `Bearer` for access tokens, `ID`, `Refresh`,
//! `Logout` for the others.

use crate::jwt::Claims;
use crate::provider::{Provider, Settings, check_audience};
use crate::rejection::Rejection;
use std::collections::HashSet;

#[derive(Debug)]
/// A Keycloak realm: a configured audience (`account` alone is none).
pub struct Keycloak {
    settings: Settings,
    audiences: HashSet<String>,
}

impl Keycloak {
    /// Realm roles.
    pub const ROLES_CLAIM: &'static str = "realm_access.roles";
    /// The audience Keycloak adds for its account console.
    pub const ACCOUNT_AUDIENCE: &'static str = "account";

    /// A realm from settings made by hand, accepting `audiences`.
    pub fn with_settings(settings: Settings, audiences: impl IntoIterator<Item = String>) -> Self {
        Self {
            settings,
            audiences: audiences.into_iter().collect(),
        }
    }
}

impl Provider for Keycloak {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Keycloak access tokens may carry the `nonce` of the sign-in that produced them, so the
    /// `typ` claim decides, with `at_hash` (ID tokens only) as a second sign.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        let typ = match claims.raw.get("typ") {
            None => None,
            Some(serde_json::Value::String(t)) => Some(t.as_str()),
            Some(_) => return Err(Rejection::BadClaims),
        };
        if typ.is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
            || claims.raw.contains_key("at_hash")
        {
            return Err(Rejection::WrongTokenUse);
        }
        check_audience(claims, &self.audiences)
    }
}
