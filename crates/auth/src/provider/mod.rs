//! Token issuers. A provider decides which tokens of its issuer are access tokens for us
//! (Cognito: `token_use` and `client_id`; OIDC: `aud`), which algorithms it signs with, and
//! where its keys come from. The verifier picks the provider by the token's `iss` before it
//! looks up any key.

mod cognito;
mod oidc;

pub use cognito::Cognito;
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

/// `http://` issuers are for local development only: honoured for loopback hosts, and only when
/// the operator opts in.
pub fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks an issuer URL from configuration: https, or loopback http when allowed.
pub fn check_issuer_url(url: &str, allow_http: bool) -> Result<(), &'static str> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if allow_http && is_loopback_http(url) {
        return Ok(());
    }
    if url.starts_with("http://") {
        Err(
            "issuer must use https (plain http is only allowed for loopback addresses with allow_http_issuer)",
        )
    } else {
        Err("issuer must be an https:// URL")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_is_allowed() {
        assert!(
            check_issuer_url(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
                false
            )
            .is_ok()
        );
        assert!(check_issuer_url("http://127.0.0.1:9000", false).is_err());
        assert!(check_issuer_url("http://127.0.0.1:9000", true).is_ok());
        assert!(check_issuer_url("http://localhost:9000/x", true).is_ok());
        assert!(check_issuer_url("http://[::1]:9000", true).is_ok());
        assert!(check_issuer_url("http://10.0.0.1:9000", true).is_err());
        assert!(check_issuer_url("http://127.0.0.1.evil.test", true).is_err());
        assert!(check_issuer_url("http://localhost.evil.test", true).is_err());
        assert!(check_issuer_url("ftp://x", true).is_err());
    }
}
