//! Any OpenID Connect provider, found through its discovery document.

use crate::jwks::JwksCache;
use crate::jwt::Claims;
use crate::keys::Alg;
use crate::provider::Provider;
use crate::rejection::Rejection;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug)]
pub struct Oidc {
    issuer: String,
    audiences: HashSet<String>,
    algorithms: Vec<Alg>,
    keys: Arc<JwksCache>,
}

impl Oidc {
    pub fn new(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = String>,
        algorithms: Vec<Alg>,
        keys: Arc<JwksCache>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: audiences.into_iter().collect(),
            algorithms,
            keys,
        }
    }
}

impl Provider for Oidc {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn algorithms(&self) -> &[Alg] {
        &self.algorithms
    }

    fn keys(&self) -> &JwksCache {
        &self.keys
    }

    /// `aud` must name one of our audiences. An OIDC ID token also carries an `aud` (the client
    /// id), so ID tokens are told apart by what only they carry: a `nonce`, an `at_hash`, or a
    /// Cognito-style `token_use` other than `access`. Configure the API's own audience, not the
    /// client id, and ID tokens cannot pass at all.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        if claims.token_use.as_deref().is_some_and(|u| u != "access")
            || claims.raw.contains_key("nonce")
            || claims.raw.contains_key("at_hash")
        {
            return Err(Rejection::WrongTokenUse);
        }
        if claims.aud.iter().any(|a| self.audiences.contains(a)) {
            Ok(())
        } else {
            Err(Rejection::WrongAudience)
        }
    }

    fn groups(&self, claims: &Claims) -> Result<Vec<String>, Rejection> {
        claims.string_list("groups")
    }
}
