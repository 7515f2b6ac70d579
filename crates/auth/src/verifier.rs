//! The verifier: every check of docs/security.md ("The checks, in order"), cheapest first, and
//! nothing in the token trusted before its signature is checked (the unverified `iss` only
//! chooses whose keys to try).

use crate::clock::Clock;
use crate::dpop::{Dpop, DpopMode, RequestProofs, Scheme};
use crate::introspection::Introspector;
use crate::jwt::{self, Claims, MAX_TOKEN_BYTES, Payload};
use crate::policy::Policy;
use crate::provider::Provider;
use crate::rejection::Rejection;
use crate::verified::Interners;
use crate::verified::cache::{TokenCache, entry_overhead};
use crate::verified::stored::Stored;
pub use crate::verified::{Verified, VerifiedClaims};
use std::collections::HashMap;
use std::sync::Arc;

/// SHA-256 of the whole token: the verified-token cache key. A weaker or partial hash would let
/// a crafted token collide with a verified one and ride on its verification.
pub type TokenDigest = [u8; 32];

/// The SHA-256 of `token`.
pub fn token_digest(token: impl AsRef<[u8]>) -> TokenDigest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why a verifier cannot be made of its providers.
pub enum VerifierError {
    #[error("two providers claim the issuer {0}")]
    /// Two providers answer for one `iss`.
    DuplicateIssuer(String),
    #[error("no provider is configured")]
    /// No provider at all.
    NoProvider,
}

/// Verifies tokens against its providers, caching verifications by token digest.
pub struct Verifier {
    /// Every accepted `iss` (aliases included) to its provider: one hash lookup per token.
    providers: HashMap<String, Arc<dyn Provider>>,
    all: Vec<Arc<dyn Provider>>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    cache: TokenCache<Stored>,
    interners: Interners,
    /// The one issuer that opaque (non-JWT) tokens are introspected at, if any.
    introspector: Option<Arc<Introspector>>,
    dpop: Option<Arc<Dpop>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuers", &self.providers.keys().collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Whether a verification was answered from the cache, for the latency metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Answered from the cache.
    Hit,
    /// Verified afresh.
    Miss,
}

impl Verifier {
    /// A verifier of `providers`; every `iss` must belong to one provider only.
    pub fn new(
        providers: Vec<Arc<dyn Provider>>,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Result<Self, VerifierError> {
        if providers.is_empty() {
            return Err(VerifierError::NoProvider);
        }
        let mut by_issuer = HashMap::new();
        for p in &providers {
            for issuer in p.issuers() {
                if by_issuer.insert(issuer.clone(), Arc::clone(p)).is_some() {
                    return Err(VerifierError::DuplicateIssuer(issuer));
                }
            }
        }
        // Bounded by entries and by bytes: each entry weighs what it holds and the cache's own
        // bookkeeping for it. An entry is reused until `cache_ttl` after it was made (the cap
        // on how long a signature check is trusted), dropped when met past that.
        let cache = TokenCache::new(policy.cache_capacity, policy.cache_max_bytes);
        Ok(Self {
            providers: by_issuer,
            all: providers,
            clock,
            policy,
            cache,
            introspector: None,
            dpop: None,
            interners: Interners::default(),
        })
    }

    /// Sends every opaque token (one that is not three dot-separated parts) to `introspector`.
    /// Its provider must be one of this verifier's: the answer's `iss` is checked against it.
    pub fn with_introspector(mut self, introspector: Introspector) -> Self {
        self.introspector = Some(Arc::new(introspector));
        self
    }

    /// The provider of an accepted `iss`.
    pub fn provider_for(&self, iss: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(iss)
    }

    /// The introspector opaque tokens go to, if one is set.
    pub fn introspector(&self) -> Option<&Arc<Introspector>> {
        self.introspector.as_ref()
    }

    /// Turns on DPoP checks for the issuers whose provider allows or requires DPoP.
    #[must_use]
    pub fn with_dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = Some(Arc::new(dpop));
        self
    }

    /// The DPoP checker, when DPoP is configured.
    pub fn dpop(&self) -> Option<&Arc<Dpop>> {
        self.dpop.as_ref()
    }

    /// The DPoP mode of the issuer `iss` (off without DPoP, or for an unknown issuer).
    pub fn dpop_mode(&self, iss: &str) -> DpopMode {
        if self.dpop.is_none() {
            return DpopMode::Off;
        }
        self.providers.get(iss).map_or(DpopMode::Off, |p| p.dpop())
    }

    /// The key-binding check of a verified token presented with `scheme` (RFC 9449): a bound
    /// token needs the `DPoP` scheme and a valid proof in `request`, and an issuer that
    /// requires DPoP accepts bound tokens only. Runs on every request, cache hit or not.
    pub async fn check_binding(
        &self,
        scheme: Scheme,
        token: &str,
        verified: &Verified,
        request: &RequestProofs<'_>,
    ) -> Result<(), Rejection> {
        match &self.dpop {
            None => crate::dpop::without_dpop(scheme, &verified.claims),
            Some(dpop) => {
                let mode = self.dpop_mode(&verified.claims.iss);
                dpop.check(mode, scheme, token, &verified.claims, request)
                    .await
            }
        }
    }

    /// The providers, in the order given.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.all.iter()
    }

    /// The time rules and cache limits.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Verifies a bearer token.
    pub async fn verify(&self, token: &str) -> Result<Arc<Verified>, Rejection> {
        self.verify_traced(token).await.map(|(v, _)| v)
    }

    /// Like [`verify`](Self::verify), and says whether the cache answered.
    pub async fn verify_traced(&self, token: &str) -> Result<(Arc<Verified>, CacheUse), Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::Oversized);
        }
        // From this thread's memo when the same bytes were hashed lately (`verified::digests`).
        let digest = crate::verified::digests::digest(token.as_bytes());
        if let Some(introspector) = &self.introspector
            && introspector.takes(token)
        {
            // Boxed, as the signature path below: a cache hit's future stays small.
            return Box::pin(introspector.verify(token, digest, &self.policy, self.clock.as_ref()))
                .await;
        }
        let (verified, used) = match self.cached(&digest)? {
            Some(v) => (v, CacheUse::Hit),
            None => {
                // Boxed: the signature path's state (a JWKS fetch among it) is kilobytes, and
                // inline it would be copied with the future of every request, cache hits too.
                let (v, shared_bytes) = Box::pin(self.verify_uncached(token)).await?;
                let v = Arc::new(v);
                if self.cache.enabled() {
                    let stored = Stored::new(&v);
                    let now = self.clock.unix_seconds();
                    let until = now.saturating_add(
                        i64::try_from(self.policy.cache_ttl.as_secs()).unwrap_or(i64::MAX),
                    );
                    // The slot (the stored form is kept in it), what the stored form owns, and
                    // the shared part when this token made it.
                    let weight = entry_overhead::<Stored>() + stored.heap_bytes() + shared_bytes;
                    let weight = u32::try_from(weight).unwrap_or(u32::MAX);
                    self.cache.insert(digest, stored, weight, until, now);
                }
                (v, CacheUse::Miss)
            }
        };
        Ok((verified, used))
    }

    /// A cached verification is reused only while its `exp` holds and its key is still in the
    /// issuer's JWKS; otherwise it is dropped and the token verified afresh.
    fn cached(&self, digest: &TokenDigest) -> Result<Option<Arc<Verified>>, Rejection> {
        if !self.cache.enabled() {
            return Ok(None);
        }
        let now = self.clock.unix_seconds();
        // Past `cache_ttl`, the cache drops the entry and answers nothing.
        let Some(hit) = self.cache.get(digest, now) else {
            return Ok(None);
        };
        let (exp, nbf, iat) = hit.times();
        if let Err(r) = self.policy.check_time_values(exp, nbf, iat, now) {
            self.cache.remove(digest);
            return Err(r);
        }
        let shared = hit.shared();
        let key_present = self
            .providers
            .get(shared.iss.as_str())
            .is_some_and(|p| p.keys().contains_at(&shared.kid, now));
        if !key_present {
            self.cache.remove(digest);
            return Ok(None);
        }
        Ok(Some(Arc::new(hit.verified())))
    }

    /// Drops every cached verification matching `pred` (all tokens of a user, say).
    pub fn forget_where(&self, pred: impl Fn(&Verified) -> bool) {
        self.cache.retain(|s| !pred(&s.verified()));
    }

    /// The verification, and the bytes of its shared part when it made it.
    async fn verify_uncached(&self, token: &str) -> Result<(Verified, usize), Rejection> {
        let parts = jwt::split(token)?;
        let header = jwt::parse_header(&parts.header)?;
        let payload = Payload::parse(&parts.payload)?;
        let issuer = payload.issuer()?;
        let provider = self.providers.get(issuer).ok_or(Rejection::UnknownIssuer)?;
        provider.check_header(&header)?;
        if !provider.algorithms().contains(&header.alg) {
            return Err(Rejection::AlgNotAllowed);
        }
        let key = provider.keys().key(&header.kid).await?;
        if key.alg != header.alg {
            return Err(Rejection::KeyMismatch);
        }
        if !key.verify(parts.signing_input, &parts.signature) {
            return Err(Rejection::BadSignature);
        }
        // From here on the claims are the issuer's word.
        let claims = Claims::from_payload(payload)?;
        self.policy
            .check_times(&claims, self.clock.unix_seconds())?;
        provider.check_token_type(&claims)?;
        let groups = provider.roles(&claims)?;
        let admin = provider.is_admin(&groups);
        Ok(Verified::compact(
            claims,
            groups,
            admin,
            &header.kid,
            &self.interners,
        ))
    }

    /// Whether every issuer's keys are loaded and usable (for `/readyz`).
    pub fn keys_ready(&self) -> bool {
        self.all.iter().all(|p| p.keys().status().usable)
    }
}
