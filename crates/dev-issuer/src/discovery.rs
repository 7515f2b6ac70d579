//! The OpenID Provider metadata document.

use serde_json::{Value, json};

use crate::DevIssuer;

/// Path of the (stub) authorization endpoint, relative to the issuer URL.
pub(crate) const AUTHORIZE_PATH: &str = "/oauth2/authorize";

impl DevIssuer {
    /// `/.well-known/openid-configuration`: the fields OpenID Connect
    /// Discovery 1.0 marks REQUIRED, plus the algorithms actually published.
    ///
    /// There is no sign-in flow (tokens are minted, not issued to browsers), but
    /// `authorization_endpoint` is required by the spec, so it names a stub that
    /// answers `unsupported_response_type`.
    #[must_use]
    pub fn openid_configuration(&self) -> Value {
        let base = self.issuer_url().trim_end_matches('/');
        let keys = self.snapshot();
        let mut algs: Vec<&str> = Vec::new();
        for key in std::iter::once(&keys.current).chain(keys.previous.iter()) {
            let alg = key.key.alg().as_str();
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        json!({
            "issuer": self.issuer_url(),
            "authorization_endpoint": format!("{base}{AUTHORIZE_PATH}"),
            "jwks_uri": self.jwks_uri(),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "auth_time", "token_use",
                "cognito:username", "cognito:groups", "email", "email_verified",
            ],
        })
    }
}
