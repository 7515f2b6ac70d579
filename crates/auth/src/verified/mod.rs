//! A token that passed every check, in the compact form the verified-token cache keeps: shared
//! strings for what tokens repeat, boxed slices instead of growable vectors and maps, and only
//! the token's own values (ids, subject, times) allocated per token. [`weight`] is what one
//! cache entry costs in memory, for the cache's byte budget.

pub mod interned;
pub mod other;

pub use interned::{Interned, Interner};
pub use other::OtherClaims;

use crate::jwt::{Claims, NumericDate};
use crate::rejection::Rejection;

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The claims, in the compact form the cache keeps.
    pub claims: VerifiedClaims,
    /// The subject's roles, read from the issuer's roles claim (Cognito groups, Auth0
    /// permissions, Entra app roles, Keycloak realm roles, ...).
    pub groups: Vec<Interned>,
    /// Whether one of those roles is one of the provider's admin roles.
    pub platform_admin: bool,
    /// The key that verified the signature.
    pub kid: Interned,
}

impl Verified {
    /// For routes that need scopes: a token lacking one is refused (403, `insufficient_scope`).
    pub fn require_scopes(&self, scopes: &[&str]) -> Result<(), Rejection> {
        if scopes.iter().all(|s| self.claims.has_scope(s)) {
            Ok(())
        } else {
            Err(Rejection::InsufficientScope)
        }
    }
}

/// The claims of a verified token ([`Claims`] after the checks), the same fields in a compact
/// form.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    /// `iss`: the issuer.
    pub iss: Interned,
    /// `sub`: the subject.
    pub sub: Interned,
    /// `exp`, re-checked on every cache hit.
    pub exp: NumericDate,
    /// `nbf`.
    pub nbf: Option<NumericDate>,
    /// `iat`.
    pub iat: Option<NumericDate>,
    /// `auth_time`: when the user authenticated (step-up checks read it).
    pub auth_time: Option<NumericDate>,
    /// Cognito's `token_use`.
    pub token_use: Option<Interned>,
    /// `client_id` (Cognito access tokens) or `azp`/`cid` where the profile reads one.
    pub client_id: Option<Interned>,
    /// `aud`, as a list.
    pub aud: Box<[Interned]>,
    /// The scopes (`scope` or `scp`).
    pub scopes: Box<[Interned]>,
    /// `jti`, for per-token revocation.
    pub jti: Option<Box<str>>,
    /// `origin_jti`: the refresh session, for per-session revocation.
    pub origin_jti: Option<Box<str>>,
    /// The username claim of the profile.
    pub username: Option<Interned>,
    /// `email`.
    pub email: Option<Interned>,
    /// `amr`: the authentication methods (MFA checks read it).
    pub amr: Box<[Interned]>,
    /// The claims not typed above, as sent.
    pub raw: OtherClaims,
}

impl VerifiedClaims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| *s == *scope)
    }

    /// A list-of-strings claim by name (such as `cognito:groups`); absent is empty, any other
    /// type is an invalid token.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, Rejection> {
        match self.raw.get(name) {
            None => Ok(Vec::new()),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or(Rejection::BadClaims))
                .collect(),
            Some(_) => Err(Rejection::BadClaims),
        }
    }
}

/// Where a verified token's strings are shared from: `common` for what many tokens of an issuer
/// repeat (issuer, clients, key ids, scopes, roles, claim names), `people` for what the tokens of
/// one user repeat (subject, username, email). Both are bounded (see [`Interner`]).
#[derive(Debug)]
pub struct Interners {
    /// Values many users share: issuers, clients, key ids, scopes, roles, claim names.
    pub common: Interner,
    /// Values of one user: subjects, usernames, e-mail addresses.
    pub people: Interner,
}

impl Default for Interners {
    fn default() -> Self {
        Self {
            common: Interner::new(4096),
            people: Interner::new(65_536),
        }
    }
}

/// Bytes one cache entry costs beyond the value: moka's entry bookkeeping (the hash-table
/// bucket, entry info, deque node, the key's `Arc`) and allocator rounding. Measured: 100 000
/// entries of a 32-byte key and an 8-byte value in an LRU, weighed cache added 342 bytes each
/// to the process's RSS (docs/benchmarks.md, "Memory").
pub const CACHE_ENTRY_OVERHEAD: usize = 342;

impl Verified {
    /// The compact form of a verified token's claims, sharing strings through `interners`,
    /// and what keeping it in the verified-token cache costs in bytes: the entry's own
    /// allocations (a shared string is counted once, in its interner's bound, not per token)
    /// plus [`CACHE_ENTRY_OVERHEAD`].
    pub fn compact(
        claims: Claims,
        groups: Vec<String>,
        platform_admin: bool,
        kid: &str,
        interners: &Interners,
    ) -> (Self, usize) {
        let own = std::cell::Cell::new(0);
        let common = |s: &str| interners.common.intern_counted(s, &own);
        let people = |s: &str| interners.people.intern_counted(s, &own);
        let list = |v: Vec<String>| -> Box<[Interned]> { v.iter().map(|s| common(s)).collect() };
        let boxed = |s: String| s.into_boxed_str();
        let c = claims;
        let verified = Self {
            claims: VerifiedClaims {
                iss: common(&c.iss),
                sub: people(&c.sub),
                exp: c.exp,
                nbf: c.nbf,
                iat: c.iat,
                auth_time: c.auth_time,
                token_use: c.token_use.as_deref().map(common),
                client_id: c.client_id.as_deref().map(common),
                aud: list(c.aud),
                scopes: list(c.scopes),
                jti: c.jti.map(boxed),
                origin_jti: c.origin_jti.map(boxed),
                username: c.username.as_deref().map(people),
                email: c.email.as_deref().map(people),
                amr: list(c.amr),
                raw: OtherClaims::from_map_counted(c.raw, &interners.common, &own),
            },
            groups: groups.iter().map(|g| common(g)).collect(),
            platform_admin,
            kid: common(kid),
        };
        let c = &verified.claims;
        let len = |s: &Option<Box<str>>| s.as_ref().map_or(0, |s| s.len());
        let bytes = std::mem::size_of_val::<[Interned]>;
        // The `Arc` around the value (two counters) and the value; the key is in the overhead.
        let weight = 16
            + std::mem::size_of::<Self>()
            + len(&c.jti)
            + len(&c.origin_jti)
            + bytes(&c.aud)
            + bytes(&c.scopes)
            + bytes(&c.amr)
            + bytes(&verified.groups)
            + c.raw.heap_bytes()
            + own.get()
            + CACHE_ENTRY_OVERHEAD;
        (verified, weight)
    }
}
