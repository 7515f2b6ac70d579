//! The DPoP decision for one request: the `Authorization` scheme, the token's binding and the
//! issuer's mode, then the proof, its time, nonce and replay checks.

use super::jwk::{ProofAlg, sha256_b64};
use super::mode::DpopMode;
use super::nonce::NonceKey;
use super::proof::{ProofTarget, check_signed};
use super::replay::ReplayCache;
use crate::clock::Clock;
use crate::jwt::Claims;
use crate::rejection::Rejection;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How the token was presented in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

/// What a request brings for DPoP: its method, its path (as received, no query), and the
/// values of its `DPoP` headers (an unreadable value counts, and fails the proof).
#[derive(Debug, Clone)]
pub struct RequestProofs<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub proofs: Vec<&'a str>,
}

/// The settings of DPoP checks for one server.
#[derive(Debug)]
pub struct DpopConfig {
    /// The public URL of this resource (RFC 9728 `resource`): a proof's `htu` must be this
    /// URL's scheme, host and port, and its path followed by the request path. Behind a proxy
    /// it is the URL clients use, not the listen address.
    pub resource: Url,
    pub algorithms: Vec<ProofAlg>,
    /// How old a proof's `iat` may be.
    pub max_age: Duration,
    /// Clock skew tolerated on `iat`, both ways.
    pub leeway: Duration,
    /// Server nonces, when required.
    pub nonce: Option<NonceKey>,
}

/// Checks DPoP requests; shared by every request of a server.
#[derive(Debug)]
pub struct Dpop {
    config: DpopConfig,
    /// The resource URL without a trailing slash, to put request paths after.
    base: String,
    algs: String,
    replay: Arc<dyn ReplayCache>,
    clock: Arc<dyn Clock>,
}

/// The token's key binding (`cnf.jkt`, RFC 9449 section 6.1), if any. A `cnf` that is not an
/// object, or a `jkt` that is not a non-empty string, makes the token invalid.
pub fn confirmation(claims: &Claims) -> Result<Option<&str>, Rejection> {
    match claims.raw.get("cnf") {
        None => Ok(None),
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            None => Ok(None),
            Some(Value::String(jkt)) if !jkt.is_empty() => Ok(Some(jkt)),
            Some(_) => Err(Rejection::BadClaims),
        },
        Some(_) => Err(Rejection::BadClaims),
    }
}

/// The binding rules that hold with or without DPoP support: a bound token is never a bearer
/// token, and the `DPoP` scheme needs DPoP turned on for the token's issuer.
pub fn without_dpop(scheme: Scheme, claims: &Claims) -> Result<(), Rejection> {
    match (scheme, confirmation(claims)?) {
        (Scheme::Bearer, Some(_)) => Err(Rejection::DpopBoundAsBearer),
        (Scheme::Bearer, None) => Ok(()),
        (Scheme::Dpop, _) => Err(Rejection::DpopNotEnabled),
    }
}

impl Dpop {
    pub fn new(config: DpopConfig, replay: Arc<dyn ReplayCache>, clock: Arc<dyn Clock>) -> Self {
        let base = config.resource.as_str().trim_end_matches('/').to_owned();
        let algs = config
            .algorithms
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            config,
            base,
            algs,
            replay,
            clock,
        }
    }

    /// The accepted algorithms, space-separated, for the `algs` challenge parameter.
    pub fn algs(&self) -> &str {
        &self.algs
    }

    pub fn config(&self) -> &DpopConfig {
        &self.config
    }

    /// A fresh nonce for the `DPoP-Nonce` header, when nonces are on.
    pub fn nonce(&self) -> Option<String> {
        let now = self.clock.now().timestamp();
        self.config.nonce.as_ref().map(|k| k.issue(now))
    }

    /// The URL a proof for `path` must name in `htu`.
    pub fn url_for(&self, path: &str) -> Result<Url, Rejection> {
        Url::parse(&format!("{}{path}", self.base)).map_err(|_| Rejection::DpopWrongUrl)
    }

    /// Checks a request whose token (`token`, `claims`) has passed verification, for an issuer
    /// in `mode`.
    pub async fn check(
        &self,
        mode: DpopMode,
        scheme: Scheme,
        token: &str,
        claims: &Claims,
        request: &RequestProofs<'_>,
    ) -> Result<(), Rejection> {
        let jkt = confirmation(claims)?;
        match (scheme, jkt) {
            (Scheme::Bearer, Some(_)) => Err(Rejection::DpopBoundAsBearer),
            (Scheme::Bearer, None) if mode == DpopMode::Required => Err(Rejection::DpopRequired),
            (Scheme::Bearer, None) => Ok(()),
            (Scheme::Dpop, _) if mode == DpopMode::Off => Err(Rejection::DpopNotEnabled),
            (Scheme::Dpop, None) => Err(Rejection::DpopUnbound),
            (Scheme::Dpop, Some(jkt)) => self.check_proof(token, jkt, request).await,
        }
    }

    async fn check_proof(
        &self,
        token: &str,
        jkt: &str,
        request: &RequestProofs<'_>,
    ) -> Result<(), Rejection> {
        let proof = match request.proofs.as_slice() {
            [one] => *one,
            [] => return Err(Rejection::DpopProofMissing),
            _ => return Err(Rejection::DpopProofInvalid),
        };
        let url = self.url_for(request.path)?;
        let target = ProofTarget {
            method: request.method,
            url: &url,
            access_token: token,
        };
        let signed = check_signed(proof, &self.config.algorithms, &target)?;
        let now = self.clock.now().timestamp();
        let leeway = secs(self.config.leeway);
        let max_age = secs(self.config.max_age);
        if signed.iat > now.saturating_add(leeway)
            || signed.iat < now.saturating_sub(max_age).saturating_sub(leeway)
        {
            return Err(Rejection::DpopStale);
        }
        if signed.jkt != jkt {
            return Err(Rejection::DpopWrongKey);
        }
        if let Some(key) = &self.config.nonce
            && !signed.nonce.as_deref().is_some_and(|n| key.accepts(n, now))
        {
            return Err(Rejection::DpopNonceRequired);
        }
        // Last, so that a proof refused for another reason spends no entry. Past the window the
        // proof fails the `iat` check, so entries need not outlive it.
        let key = sha256_b64(&format!("{}.{}", signed.jkt, signed.jti));
        let ttl = self.config.max_age + self.config.leeway * 2;
        match self.replay.first_use(&key, ttl).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Rejection::DpopReplayed),
            Err(e) => {
                tracing::warn!(error = %e, "DPoP proof refused: replay cache unavailable");
                Err(Rejection::DpopReplayUnavailable)
            }
        }
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
