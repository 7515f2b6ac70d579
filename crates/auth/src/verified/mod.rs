//! A token that passed every check, in the compact form the verified-token cache keeps: what a
//! user's tokens have in common in one shared part ([`SharedClaims`], its strings interned),
//! and per token only its ids (inline) and times. [`Verified::compact`] also says what one
//! cache entry costs in memory, for the cache's byte budget.

pub mod cache;
pub mod digests;
pub mod interned;
pub mod other;
pub mod shared;
pub mod stored;
pub mod token_id;

pub use interned::{Interned, Interner};
pub use other::OtherClaims;
pub use shared::{Shapes, SharedClaims};
pub use token_id::TokenId;

use crate::jwt::{Claims, NumericDate};
use crate::rejection::Rejection;
use std::ops::Deref;
use std::sync::Arc;

/// A token that passed every check. Reads as its [`SharedClaims`] too: `verified.groups`,
/// `verified.kid`, `verified.platform_admin`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The claims, in the compact form the cache keeps.
    pub claims: VerifiedClaims,
}

impl Deref for Verified {
    type Target = SharedClaims;
    fn deref(&self) -> &SharedClaims {
        &self.claims.shared
    }
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

/// The claims of a verified token ([`Claims`] after the checks): the token's own ids and times
/// here, and what its user's tokens share ([`SharedClaims`]: `iss`, `sub`, `scopes`, `raw`, ...)
/// read through it as fields of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    /// `exp`, re-checked on every cache hit.
    pub exp: NumericDate,
    /// `nbf`.
    pub nbf: Option<NumericDate>,
    /// `iat`.
    pub iat: Option<NumericDate>,
    /// `auth_time`: when the user authenticated (step-up checks read it).
    pub auth_time: Option<NumericDate>,
    /// `jti`, for per-token revocation.
    pub jti: Option<TokenId>,
    /// `origin_jti`: the refresh session, for per-session revocation.
    pub origin_jti: Option<TokenId>,
    shared: Arc<SharedClaims>,
}

impl Deref for VerifiedClaims {
    type Target = SharedClaims;
    fn deref(&self) -> &SharedClaims {
        &self.shared
    }
}

impl VerifiedClaims {
    /// What this token shares with the other tokens of its user.
    pub fn shared(&self) -> &Arc<SharedClaims> {
        &self.shared
    }

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

/// Where a verified token's shared parts come from: `common` for the strings many tokens of an
/// issuer repeat (issuer, clients, key ids, scopes, roles, claim names), `people` for those the
/// tokens of one user repeat (subject, username, email), both bounded (see [`Interner`]); and
/// `shapes` for the whole [`SharedClaims`] of a user's tokens.
#[derive(Debug)]
pub struct Interners {
    /// Values many users share: issuers, clients, key ids, scopes, roles, claim names.
    pub common: Interner,
    /// Values of one user: subjects, usernames, e-mail addresses.
    pub people: Interner,
    /// Whole shared parts, held while a token holds them.
    pub shapes: Shapes,
}

impl Default for Interners {
    fn default() -> Self {
        Self {
            common: Interner::new(4096),
            people: Interner::new(65_536),
            shapes: Shapes::default(),
        }
    }
}

/// What a heap allocation of `n` bytes takes from the allocator: glibc's chunks carry an
/// 8-byte header, are 16-byte aligned and at least 32 bytes.
pub(crate) fn allocation(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).next_multiple_of(16).max(32)
    }
}

impl Verified {
    /// The compact form of a verified token's claims, sharing strings through `interners` and
    /// the part its user's tokens have in common through `interners.shapes`; and the heap
    /// bytes of that shared part when this token made it, 0 when it was already in use (a
    /// string shared through an interner is counted once, in the interner's bound, not per
    /// token).
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
        let c = claims;
        let shape = SharedClaims {
            iss: common(&c.iss),
            sub: people(&c.sub),
            token_use: c.token_use.as_deref().map(common),
            client_id: c.client_id.as_deref().map(common),
            aud: list(c.aud),
            scopes: list(c.scopes),
            username: c.username.as_deref().map(people),
            email: c.email.as_deref().map(people),
            amr: list(c.amr),
            raw: OtherClaims::from_map_counted(c.raw, &interners.common, &own),
            groups: {
                let mut g: Vec<Interned> = groups.iter().map(|g| common(g)).collect();
                g.shrink_to_fit();
                g
            },
            platform_admin,
            kid: common(kid),
        };
        let shape_bytes = shape.heap_bytes() + own.get();
        let (shared, new) = interners.shapes.share(shape);
        let verified = Self {
            claims: VerifiedClaims {
                exp: c.exp,
                nbf: c.nbf,
                iat: c.iat,
                auth_time: c.auth_time,
                jti: c.jti.map(TokenId::from),
                origin_jti: c.origin_jti.map(TokenId::from),
                shared,
            },
        };
        (verified, if new { shape_bytes } else { 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{DEFAULT_CACHE_MAX_BYTES, Policy};
    use serde_json::json;

    /// A Cognito access token's claims, `n` making its ids and times its own.
    fn cognito_access(n: i64) -> Claims {
        let uuid = |k: i64| format!("0192f3a4-5b6c-7d8e-9f01-{:012x}", k);
        let serde_json::Value::Object(raw) =
            json!({"event_id": uuid(-1), "version": 2, "cognito:groups": ["staff"]})
        else {
            panic!("an object")
        };
        Claims {
            iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI".into(),
            sub: "5f3c2a1e-8b7d-4c6e-9a0f-1b2c3d4e5f60".into(),
            exp: 1_800_003_600 + n,
            nbf: None,
            iat: Some(1_800_000_000 + n),
            auth_time: Some(1_800_000_000 + n),
            token_use: Some("access".into()),
            client_id: Some("1example23456789abcdefghij".into()),
            aud: vec![],
            scopes: vec!["openid".into(), "email".into()],
            jti: Some(uuid(n)),
            origin_jti: Some(uuid(n + 1_000_000)),
            username: Some("5f3c2a1e-8b7d-4c6e-9a0f-1b2c3d4e5f60".into()),
            email: None,
            amr: vec![],
            raw,
        }
    }

    #[test]
    fn the_default_budget_holds_the_default_count_of_tokens_of_1000_users() {
        let interners = Interners::default();
        let verify = |n| {
            Verified::compact(
                cognito_access(n),
                vec!["staff".into()],
                false,
                "k1",
                &interners,
            )
        };
        let (first, shared_bytes) = verify(1);
        let (second, again) = verify(2);
        assert!(Arc::ptr_eq(first.claims.shared(), second.claims.shared()));
        assert_eq!(
            again, 0,
            "a shared part weighs on the token that brought it"
        );
        assert_ne!(first.claims.jti, second.claims.jti);
        let stored = stored::Stored::new(&first);
        assert_eq!(stored.heap_bytes(), 0, "UUID ids are kept in the slot");
        let slot = cache::entry_overhead::<stored::Stored>();
        let users = 1000;
        let tokens = usize::try_from(Policy::default().cache_capacity).expect("fits");
        let total = users * (slot + shared_bytes) + (tokens - users) * slot;
        assert!(
            u64::try_from(total).expect("fits") <= DEFAULT_CACHE_MAX_BYTES,
            "slot {slot} B, shared part {shared_bytes} B: {total} B in all"
        );
        // What docs/configuration.md states a Cognito access token's shared part weighs.
        assert!((450..=650).contains(&shared_bytes), "{shared_bytes} B");
    }
}
