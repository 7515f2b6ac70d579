//! What every provider holds whatever its profile: the issuer its keys come from, the further
//! spellings of that issuer its tokens may carry, the algorithms it signs with, its key set,
//! and where its tokens keep roles.

use crate::dpop::DpopMode;
use crate::jwks::JwksCache;
use crate::jwt::Claims;
use crate::keys::Alg;
use crate::provider::roles::{ClaimPath, Roles};
use std::sync::Arc;

#[derive(Debug)]
/// What every provider has: its issuer and aliases, algorithms, key set and role rule.
pub struct Settings {
    issuer: String,
    aliases: Vec<String>,
    algorithms: Vec<Alg>,
    keys: Arc<JwksCache>,
    roles: Roles,
    dpop: DpopMode,
}

impl Settings {
    /// `issuer` is the canonical `iss`, and the only one keys are fetched for. RS256 only, no
    /// aliases, no roles claim, admin by the default admin role.
    pub fn new(issuer: impl Into<String>, keys: Arc<JwksCache>) -> Self {
        Self {
            issuer: issuer.into(),
            aliases: Vec::new(),
            algorithms: vec![Alg::Rs256],
            keys,
            roles: Roles::new(None),
            dpop: DpopMode::Off,
        }
    }

    /// Further `iss` values accepted for this issuer (Keycloak behind another host name, the
    /// other Cognito issuer form). Tokens carrying them are checked with the keys of `issuer`.
    pub fn aliases(mut self, aliases: impl IntoIterator<Item = String>) -> Self {
        for alias in aliases {
            if alias != self.issuer && !self.aliases.contains(&alias) {
                self.aliases.push(alias);
            }
        }
        self
    }

    /// Sets the accepted algorithms.
    pub fn algorithms(mut self, algorithms: Vec<Alg>) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Whether this issuer's tokens may or must be DPoP-bound (off unless set).
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = mode;
        self
    }

    /// This issuer's DPoP setting.
    pub fn dpop_mode(&self) -> DpopMode {
        self.dpop
    }

    /// Sets the role rule.
    pub fn roles(mut self, roles: Roles) -> Self {
        self.roles = roles;
        self
    }

    /// Sets where roles are read.
    pub fn roles_claim(mut self, claim: Option<ClaimPath>) -> Self {
        self.roles = self.roles.with_claim(claim);
        self
    }

    /// Sets the roles that make a platform admin.
    pub fn admin_roles(mut self, admin: Vec<String>) -> Self {
        self.roles = self.roles.with_admin_roles(admin);
        self
    }

    /// The canonical issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Every accepted `iss`, the canonical one first.
    pub fn issuers(&self) -> Vec<String> {
        std::iter::once(self.issuer.clone())
            .chain(self.aliases.iter().cloned())
            .collect()
    }

    /// The accepted algorithms.
    pub fn algorithm_list(&self) -> &[Alg] {
        &self.algorithms
    }

    /// The key set.
    pub fn keys(&self) -> &JwksCache {
        &self.keys
    }

    /// The role rule.
    pub fn role_rule(&self) -> &Roles {
        &self.roles
    }
}

/// What only ID tokens carry: a `nonce` or an `at_hash` (OpenID Connect Core, section 2), or a
/// Cognito-style `token_use` other than `access`.
pub(crate) fn looks_like_id_token(claims: &Claims) -> bool {
    claims.token_use.as_deref().is_some_and(|u| u != "access")
        || claims.raw.contains_key("nonce")
        || claims.raw.contains_key("at_hash")
}
