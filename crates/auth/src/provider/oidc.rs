//! Any OpenID Connect provider, found through its discovery document.

use crate::jwks::JwksCache;
use crate::jwt::Claims;
use crate::keys::Alg;
use crate::provider::roles::Roles;
use crate::provider::settings::looks_like_id_token;
use crate::provider::{Provider, Settings, check_audience};
use crate::rejection::Rejection;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug)]
/// Any OpenID Connect issuer: `aud` checked, ID tokens refused.
pub struct Oidc {
    settings: Settings,
    audiences: HashSet<String>,
}

impl Oidc {
    /// The default roles claim.
    pub const ROLES_CLAIM: &'static str = "groups";

    /// One issuer, roles from `groups`.
    pub fn new(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = String>,
        algorithms: Vec<Alg>,
        keys: Arc<JwksCache>,
    ) -> Self {
        let settings = Settings::new(issuer, keys)
            .algorithms(algorithms)
            .roles(Roles::at(Self::ROLES_CLAIM));
        Self::with_settings(settings, audiences)
    }

    /// An issuer from settings made by hand, accepting `audiences`.
    pub fn with_settings(settings: Settings, audiences: impl IntoIterator<Item = String>) -> Self {
        Self {
            settings,
            audiences: audiences.into_iter().collect(),
        }
    }
}

impl Provider for Oidc {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    /// `aud` must name one of our audiences. An OIDC ID token also carries an `aud` (the client
    /// id), so ID tokens are told apart by what only they carry: a `nonce`, an `at_hash`, or a
    /// Cognito-style `token_use` other than `access`. Configure the API's own audience, not the
    /// client id, and ID tokens cannot pass at all.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        if looks_like_id_token(claims) {
            return Err(Rejection::WrongTokenUse);
        }
        check_audience(claims, &self.audiences)
    }
}
