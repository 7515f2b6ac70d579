//! AWS Cognito user pools (and the embedded dev issuer, which mints Cognito-shaped tokens).
//!
//! Access tokens carry no `aud`: `token_use` must be `access` and `client_id` one of ours. A
//! pool's tokens carry one of two issuer forms, whichever the pool is configured for
//! (`IssuerConfigurationType`): `https://cognito-idp.{region}.amazonaws.com/{pool}` or
//! `https://issuer-cognito-idp.{region}.amazonaws.com/{pool}`.

use crate::jwks::JwksCache;
use crate::jwt::Claims;
use crate::keys::Alg;
use crate::provider::roles::Roles;
use crate::provider::{Provider, Settings};
use crate::rejection::Rejection;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug)]
/// A Cognito user pool: access tokens only (`token_use`), from accepted app clients (`client_id`).
pub struct Cognito {
    settings: Settings,
    client_ids: HashSet<String>,
}

impl Cognito {
    /// Where Cognito keeps groups, and so the default roles claim.
    pub const ROLES_CLAIM: &'static str = "cognito:groups";

    /// The original issuer of a user pool: `https://cognito-idp.{region}.amazonaws.com/{pool}`.
    pub fn pool_issuer(region: &str, user_pool_id: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
    }

    /// Both issuer forms of a pool: the original one (which keys are fetched from) and
    /// `https://issuer-cognito-idp.{region}.amazonaws.com/{pool}`.
    pub fn pool_issuers(region: &str, user_pool_id: &str) -> [String; 2] {
        [
            Self::pool_issuer(region, user_pool_id),
            format!("https://issuer-cognito-idp.{region}.amazonaws.com/{user_pool_id}"),
        ]
    }

    /// Cognito's JWKS location for an issuer.
    pub fn jwks_url(issuer: &str) -> String {
        format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
    }

    /// One issuer, RS256, roles from `cognito:groups`.
    pub fn new(
        issuer: impl Into<String>,
        client_ids: impl IntoIterator<Item = String>,
        keys: Arc<JwksCache>,
    ) -> Self {
        let settings = Settings::new(issuer, keys).roles(Roles::at(Self::ROLES_CLAIM));
        Self::with_settings(settings, client_ids)
    }

    /// A pool from settings made by hand, accepting `client_ids`.
    pub fn with_settings(settings: Settings, client_ids: impl IntoIterator<Item = String>) -> Self {
        Self {
            settings,
            client_ids: client_ids.into_iter().collect(),
        }
    }

    /// Replaces the default RS256-only allow-list (for pools fronted by an ES256 issuer).
    pub fn with_algorithms(mut self, algorithms: Vec<Alg>) -> Self {
        self.settings = self.settings.algorithms(algorithms);
        self
    }
}

impl Provider for Cognito {
    fn settings(&self) -> &Settings {
        &self.settings
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
}
