//! Token issuers. A provider decides which tokens of its issuer are access tokens for us
//! (Cognito: `token_use` and `client_id`; OIDC: `aud`), which algorithms it signs with, and
//! where its keys come from. The verifier picks the provider by the token's `iss` before it
//! looks up any key.

mod cognito;
mod issuer_url;
mod oidc;

pub use cognito::Cognito;
pub use issuer_url::{UrlRefusal, check_issuer_url, check_key_url, is_loopback_http};
pub use oidc::Oidc;

use crate::jwks::JwksCache;
use crate::jwt::Claims;
use crate::keys::Alg;
use crate::rejection::Rejection;
use std::fmt::Debug;

pub trait Provider: Send + Sync + Debug {
    /// The exact `iss` value this provider's tokens carry.
    fn issuer(&self) -> &str;
    /// Algorithms accepted from this issuer (RS256 unless configured otherwise).
    fn algorithms(&self) -> &[Alg];
    fn keys(&self) -> &JwksCache;
    /// Accepts only access tokens meant for us.
    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection>;
    /// The IdP groups of the token's subject (Cognito `cognito:groups`, OIDC `groups`).
    fn groups(&self, claims: &Claims) -> Result<Vec<String>, Rejection>;
}
