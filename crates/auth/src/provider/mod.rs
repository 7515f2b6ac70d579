//! Token issuers. A provider decides which tokens of its issuer are access tokens for us
//! (Cognito: `token_use` and `client_id`; the others: `aud`, and each profile's own traps),
//! which `iss` values it answers for, which algorithms it signs with, where its keys come
//! from, and where its tokens keep roles. The verifier picks the provider by the token's `iss`
//! before it looks up any key.

mod auth0;
mod cognito;
mod entra;
mod google;
mod issuer_url;
mod keycloak;
mod oidc;
mod okta;
mod profile;
pub mod roles;
mod settings;

pub use auth0::Auth0;
pub use cognito::Cognito;
pub use entra::Entra;
pub use google::Google;
pub use issuer_url::{UrlRefusal, check_issuer_url, check_key_url, is_loopback_http};
pub use keycloak::Keycloak;
pub use oidc::Oidc;
pub use okta::Okta;
pub use profile::{Kind, Profile};
pub use roles::{ClaimPath, DEFAULT_ADMIN_ROLE, Roles};
pub use settings::Settings;

use crate::jwks::JwksCache;
use crate::jwt::{Claims, Header};
use crate::keys::Alg;
use crate::rejection::Rejection;
use std::fmt::Debug;

/// One issuer's rules: which `iss` it answers for, its algorithms and keys, which tokens are access tokens for this API, and where roles are.
pub trait Provider: Send + Sync + Debug {
    /// The issuer, its aliases, algorithms, keys and role rule.
    fn settings(&self) -> &Settings;

    /// The canonical `iss`: the issuer keys are fetched for.
    fn issuer(&self) -> &str {
        self.settings().issuer()
    }

    /// Every `iss` value this provider's tokens may carry. Read once, when the verifier is
    /// built, into the table the verifier looks issuers up in.
    fn issuers(&self) -> Vec<String> {
        self.settings().issuers()
    }

    /// Algorithms accepted from this issuer (RS256 unless configured otherwise).
    fn algorithms(&self) -> &[Alg] {
        self.settings().algorithm_list()
    }

    /// Whether this issuer's tokens may or must be DPoP-bound.
    fn dpop(&self) -> crate::dpop::DpopMode {
        self.settings().dpop_mode()
    }

    /// The issuer's key set.
    fn keys(&self) -> &JwksCache {
        self.settings().keys()
    }

    /// Header rules of this issuer beyond the common ones, checked before any key lookup.
    fn check_header(&self, _header: &Header) -> Result<(), Rejection> {
        Ok(())
    }

    /// Accepts only access tokens meant for us.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection>;

    /// The roles of the token's subject, from the profile's roles claim.
    fn roles(&self, claims: &Claims) -> Result<Vec<String>, Rejection> {
        self.settings().role_rule().read(claims)
    }

    /// Whether these roles make the subject a platform admin.
    fn is_admin(&self, roles: &[String]) -> bool {
        self.settings().role_rule().is_admin(roles)
    }
}

/// Accepted when `aud` names one of `audiences`.
pub(crate) fn check_audience(
    claims: &Claims,
    audiences: &std::collections::HashSet<String>,
) -> Result<(), Rejection> {
    if claims.aud.iter().any(|a| audiences.contains(a)) {
        Ok(())
    } else {
        Err(Rejection::WrongAudience)
    }
}
