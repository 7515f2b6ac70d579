//! Token introspection (RFC 7662) for opaque access tokens: one issuer's endpoint asked about
//! each token once, the answer cached by the token's SHA-256 and read through the same claim
//! checks as a JWT.
//!
//! Which issuer an opaque token belongs to cannot be read from it, and sending a token to an
//! issuer that did not mint it would hand it to a third party. So at most one issuer of a
//! verifier introspects; every token that is not JWT-shaped (three dot-separated parts) goes
//! to that issuer's endpoint, and JWT-shaped tokens keep being verified by signature, unless
//! [`IntrospectionConfig::jwts`] sends that issuer's JWTs to its endpoint too.
//!
//! The endpoint's word is never replaced by a guess: when it cannot be asked (timeout,
//! connection failure, an error status, an answer that is not one), the token is neither
//! accepted nor refused but the request fails with [`Rejection::IntrospectionUnavailable`]
//! (a 503, not a 401: the client's token may be fine). Those failures are not cached.

mod answer;
mod call;
mod config;
mod observer;

pub use config::{ClientAuth, ClientSecret, IntrospectionConfig};
pub use observer::{CallOutcome, IntrospectionObserver};

use crate::clock::Clock;
use crate::jwt::Claims;
use crate::policy::Policy;
use crate::provider::Provider;
use crate::rejection::Rejection;
use crate::verifier::{CacheUse, TokenDigest, Verified};
use answer::Reading;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What is kept for a token: the verification, or the refusal, and for how long.
#[derive(Debug, Clone)]
struct Cached {
    result: Result<Arc<Verified>, Rejection>,
    ttl: Duration,
}

/// Each entry lives as long as its own answer allows.
struct ByAnswer;

impl moka::Expiry<TokenDigest, Cached> for ByAnswer {
    fn expire_after_create(
        &self,
        _key: &TokenDigest,
        value: &Cached,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// One issuer's introspection client and answer cache.
pub struct Introspector {
    provider: Arc<dyn Provider>,
    /// The provider's `iss` values, read once.
    issuers: Vec<String>,
    config: IntrospectionConfig,
    client: reqwest::Client,
    cache: moka::future::Cache<TokenDigest, Cached>,
    /// Shared strings of the answers' compact claims, as the verifier keeps for JWTs.
    interners: crate::verified::Interners,
    observer: Option<Arc<dyn IntrospectionObserver>>,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("issuer", &self.provider.issuer())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why an introspector cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntrospectionError {
    /// The endpoint is not an https URL (or loopback http where allowed).
    #[error("the introspection endpoint must be an https:// URL without user info")]
    Endpoint,
    /// The client id is empty.
    #[error("the introspection client id is empty")]
    ClientId,
    /// A duration is zero.
    #[error("the introspection {0} must be above zero")]
    Zero(&'static str),
    /// The HTTP client could not be created.
    #[error("cannot create the HTTP client for introspection: {0}")]
    Client(String),
}

impl Introspector {
    /// An introspector for `provider`'s tokens. `allow_loopback_http` admits an `http://`
    /// endpoint on a loopback address (development and tests).
    pub fn new(
        provider: Arc<dyn Provider>,
        config: IntrospectionConfig,
        allow_loopback_http: bool,
    ) -> Result<Self, IntrospectionError> {
        crate::provider::check_key_url(&config.endpoint, allow_loopback_http)
            .map_err(|_| IntrospectionError::Endpoint)?;
        if config.client_id.is_empty() {
            return Err(IntrospectionError::ClientId);
        }
        for (name, d) in [
            ("timeout", config.timeout),
            ("cache ttl", config.cache_ttl),
            ("inactive ttl", config.inactive_ttl),
        ] {
            if d.is_zero() {
                return Err(IntrospectionError::Zero(name));
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            // A redirect would carry the token and our credentials to a host nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("portcullis-auth")
            .build()
            .map_err(|e| IntrospectionError::Client(e.to_string()))?;
        let cache = moka::future::Cache::builder()
            .max_capacity(config.cache_capacity)
            .expire_after(ByAnswer)
            .build();
        Ok(Self {
            issuers: provider.issuers(),
            provider,
            config,
            client,
            cache,
            interners: crate::verified::Interners::default(),
            observer: None,
        })
    }

    /// Tells `observer` about every endpoint call.
    pub fn with_observer(mut self, observer: Arc<dyn IntrospectionObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The issuer whose endpoint is asked.
    pub fn issuer(&self) -> &str {
        self.provider.issuer()
    }

    /// Whether `token` goes to this endpoint: every opaque token, and with
    /// [`IntrospectionConfig::jwts`] the JWTs whose unverified `iss` names this issuer (the
    /// claim only chooses where the token is checked, as it chooses keys on the JWT path).
    pub fn takes(&self, token: &str) -> bool {
        if is_opaque(token) {
            return true;
        }
        self.config.jwts && unverified_issuer(token).is_some_and(|iss| self.issuers.contains(&iss))
    }

    /// Verifies a token this introspector [`takes`](Self::takes): from the cache, or by one
    /// call to the endpoint shared by every request that presents the same token meanwhile
    /// (those waiters report a cache hit).
    pub(crate) async fn verify(
        &self,
        token: &str,
        digest: TokenDigest,
        policy: &Policy,
        clock: &dyn Clock,
    ) -> Result<(Arc<Verified>, CacheUse), Rejection> {
        if !is_b64token(token) {
            return Err(Rejection::Malformed);
        }
        let called = AtomicBool::new(false);
        let entry = self
            .cache
            .try_get_with(digest, async {
                called.store(true, Ordering::Relaxed);
                self.ask(token, policy, clock).await
            })
            .await
            .map_err(|e: Arc<Rejection>| *e)?;
        let used = if called.load(Ordering::Relaxed) {
            CacheUse::Miss
        } else {
            CacheUse::Hit
        };
        let verified = entry.result?;
        // Entries do not outlive `exp` by the cache's clock; the verifier's clock (injected,
        // for tests and skew) has the last word.
        let c = &verified.claims;
        policy.check_time_values(c.exp, c.nbf, c.iat, clock.unix_seconds())?;
        Ok((verified, used))
    }

    async fn ask(
        &self,
        token: &str,
        policy: &Policy,
        clock: &dyn Clock,
    ) -> Result<Cached, Rejection> {
        let started = Instant::now();
        let reading = call::introspect(&self.client, &self.config, token)
            .await
            .and_then(|body| answer::read(&body));
        let outcome = match &reading {
            Ok(Reading::Active { .. }) => CallOutcome::Active,
            Ok(Reading::Inactive) => CallOutcome::Inactive,
            Err(o) => *o,
        };
        if let Some(o) = &self.observer {
            o.called(self.provider.issuer(), outcome, started.elapsed());
        }
        let refused = |r| Cached {
            result: Err(r),
            ttl: self.config.inactive_ttl,
        };
        match reading {
            Err(outcome) => {
                tracing::warn!(
                    issuer = self.provider.issuer(),
                    outcome = outcome.label(),
                    "token introspection failed"
                );
                Err(Rejection::IntrospectionUnavailable)
            }
            Ok(Reading::Inactive) => Ok(refused(Rejection::Inactive)),
            Ok(Reading::Active {
                payload,
                token_type,
            }) => {
                let now = clock.unix_seconds();
                match self.check(*payload, token_type.as_ref(), policy, now) {
                    Ok(v) => {
                        let left = u64::try_from(v.claims.exp.saturating_sub(now)).unwrap_or(0);
                        Ok(Cached {
                            ttl: self
                                .config
                                .cache_ttl
                                .min(Duration::from_secs(left))
                                .max(Duration::from_millis(1)),
                            result: Ok(Arc::new(v)),
                        })
                    }
                    Err(r) => Ok(refused(r)),
                }
            }
        }
    }

    /// The checks a JWT's claims go through after its signature, on the issuer's answer.
    fn check(
        &self,
        mut payload: crate::jwt::Payload,
        token_type: Option<&serde_json::Value>,
        policy: &Policy,
        now: i64,
    ) -> Result<Verified, Rejection> {
        answer::check_token_type(token_type)?;
        answer::settle_issuer(&mut payload, self.provider.issuer(), &self.issuers)?;
        let claims = Claims::from_payload(payload)?;
        policy.check_times(&claims, now)?;
        self.provider.check_token_type(&claims)?;
        let groups = self.provider.roles(&claims)?;
        let admin = self.provider.is_admin(&groups);
        // No key verified an introspected token: its key id is empty.
        let (verified, _weight) = Verified::compact(claims, groups, admin, "", &self.interners);
        Ok(verified)
    }

    /// Drops every cached answer (after a revocation the caller cannot match to tokens).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

/// The `iss` of a JWT-shaped token, unverified; `None` when it cannot be read.
fn unverified_issuer(token: &str) -> Option<String> {
    let parts = crate::jwt::split(token).ok()?;
    let payload = crate::jwt::Payload::parse(&parts.payload).ok()?;
    payload.issuer().ok().map(str::to_owned)
}

/// A token that is not a compact JWS: anything but exactly three dot-separated parts.
pub fn is_opaque(token: &str) -> bool {
    token.split('.').count() != 3
}

/// RFC 6750's `b64token`: what may follow `Bearer ` at all. Anything else is not sent to the
/// endpoint.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_opaque("ya29.a0AfH6SM"));
        assert!(is_opaque("a.b.c.d.e"));
        assert!(!is_opaque("a.b.c"));
        assert!(is_b64token("ya29.a0AfH6SM-_~+/=="));
        for bad in ["", "==", "a b", "a\"b", "a,b", "tok=en"] {
            assert!(!is_b64token(bad), "{bad}");
        }
    }
}
