//! How to reach one issuer's introspection endpoint (RFC 7662) and how long to keep answers.

use std::fmt;
use std::time::Duration;

/// How the client authenticates to the introspection endpoint (RFC 6749, section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `Authorization: Basic`, id and secret form-encoded first (`client_secret_basic`).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
}

/// The client secret. Never shown: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the request to the endpoint only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// One issuer's introspection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IntrospectionConfig {
    /// The endpoint URL (`https://`, or `http://` on loopback when the builder allows it).
    pub endpoint: String,
    /// This resource server's client id at the issuer.
    pub client_id: String,
    /// Its secret.
    pub client_secret: ClientSecret,
    /// How the id and secret are sent.
    pub auth: ClientAuth,
    /// Longest time an `active` answer is reused; never past the token's `exp`.
    pub cache_ttl: Duration,
    /// How long an `active: false` answer (or a token refused on its claims) is reused: short,
    /// so that a token the issuer has just activated is not refused for long, yet a client
    /// repeating a dead token does not cost an endpoint call per request.
    pub inactive_ttl: Duration,
    /// Each call's limit; past it the token is neither accepted nor refused but the request
    /// fails as unavailable.
    pub timeout: Duration,
    /// Entries in the answer cache.
    pub cache_capacity: u64,
    /// Also introspect JWT-shaped tokens whose (unverified) `iss` is this issuer's, instead of
    /// checking their signature: for issuers whose JWTs are meant to be introspected, not
    /// verified locally (Okta's org authorization server). Off by default.
    pub jwts: bool,
}

impl IntrospectionConfig {
    /// Settings with the defaults: basic authentication, answers kept 5 minutes (inactive
    /// ones 10 seconds), calls limited to 2 seconds.
    pub fn new(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            client_id: client_id.into(),
            client_secret,
            auth: ClientAuth::Basic,
            cache_ttl: Duration::from_secs(300),
            inactive_ttl: Duration::from_secs(10),
            timeout: Duration::from_secs(2),
            cache_capacity: 100_000,
            jwts: false,
        }
    }
}
