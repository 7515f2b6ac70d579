//! AWS Cognito user pools (and the embedded dev issuer, which mints Cognito-shaped tokens).

use crate::jwks::JwksCache;
use crate::jwt::Claims;
use crate::keys::Alg;
use crate::provider::Provider;
use crate::rejection::Rejection;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug)]
pub struct Cognito {
    issuer: String,
    client_ids: HashSet<String>,
    algorithms: Vec<Alg>,
    keys: Arc<JwksCache>,
}

impl Cognito {
    /// The issuer of a user pool: `https://cognito-idp.{region}.amazonaws.com/{pool id}`.
    pub fn pool_issuer(region: &str, user_pool_id: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
    }

    /// Cognito's JWKS location for an issuer.
    pub fn jwks_url(issuer: &str) -> String {
        format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
    }

    pub fn new(
        issuer: impl Into<String>,
        client_ids: impl IntoIterator<Item = String>,
        keys: Arc<JwksCache>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_ids: client_ids.into_iter().collect(),
            algorithms: vec![Alg::Rs256],
            keys,
        }
    }
}

impl Cognito {
    /// Replaces the default RS256-only allow-list (for pools fronted by an ES256 issuer).
    pub fn with_algorithms(mut self, algorithms: Vec<Alg>) -> Self {
        self.algorithms = algorithms;
        self
    }
}

impl Provider for Cognito {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn algorithms(&self) -> &[Alg] {
        &self.algorithms
    }

    fn keys(&self) -> &JwksCache {
        &self.keys
    }

    /// Cognito ID tokens are signed by the same keys as access tokens; `token_use` is the only
    /// thing that tells them apart, and ID tokens carry `aud` instead of `client_id`.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        if claims.token_use.as_deref() != Some("access") {
            return Err(Rejection::WrongTokenUse);
        }
        match &claims.client_id {
            Some(c) if self.client_ids.contains(c) => Ok(()),
            _ => Err(Rejection::WrongClient),
        }
    }

    fn groups(&self, claims: &Claims) -> Result<Vec<String>, Rejection> {
        claims.string_list("cognito:groups")
    }
}
