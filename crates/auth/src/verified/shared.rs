//! What the tokens of one user (or one sign-in) have in common, kept once behind an `Arc` that
//! every cached token of theirs points to: a token's own part is then only its ids and times.

use super::interned::Interned;
use super::other::OtherClaims;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, Weak};

/// The claims and verification facts that do not change from one token of a user to the next
/// (issuer, subject, client, audiences, scopes, roles, key id, the unregistered claims).
/// [`Verified`](super::Verified) and [`VerifiedClaims`](super::VerifiedClaims) read as these
/// fields too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SharedClaims {
    /// `iss`: the issuer.
    pub iss: Interned,
    /// `sub`: the subject.
    pub sub: Interned,
    /// Cognito's `token_use`.
    pub token_use: Option<Interned>,
    /// `client_id` (Cognito access tokens) or `azp`/`cid` where the profile reads one.
    pub client_id: Option<Interned>,
    /// `aud`, as a list.
    pub aud: Box<[Interned]>,
    /// The scopes (`scope` or `scp`).
    pub scopes: Box<[Interned]>,
    /// The username claim of the profile.
    pub username: Option<Interned>,
    /// `email`.
    pub email: Option<Interned>,
    /// `amr`: the authentication methods (MFA checks read it).
    pub amr: Box<[Interned]>,
    /// The claims not typed above, as sent.
    pub raw: OtherClaims,
    /// The subject's roles, read from the issuer's roles claim (Cognito groups, Auth0
    /// permissions, Entra app roles, Keycloak realm roles, ...).
    pub groups: Vec<Interned>,
    /// Whether one of those roles is one of the provider's admin roles.
    pub platform_admin: bool,
    /// The key that verified the signature.
    pub kid: Interned,
}

impl SharedClaims {
    /// Heap bytes of one copy, beyond the strings shared through the interners.
    pub fn heap_bytes(&self) -> usize {
        let slice = std::mem::size_of_val::<[Interned]>;
        super::allocation(16 + std::mem::size_of::<Self>())
            + super::allocation(slice(&self.aud))
            + super::allocation(slice(&self.scopes))
            + super::allocation(slice(&self.amr))
            + super::allocation(self.groups.capacity() * std::mem::size_of::<Interned>())
            + self.raw.heap_bytes()
    }
}

/// The [`SharedClaims`] in use, by content, so that equal ones are one allocation. Holds them
/// weakly: one lives as long as a cached token (or a request) holds it, and no longer.
#[derive(Debug, Default)]
pub struct Shapes {
    inner: Mutex<ShapeSet>,
}

#[derive(Debug, Default)]
struct ShapeSet {
    by_hash: HashMap<u64, Weak<SharedClaims>>,
    hasher: RandomState,
    /// Entries at the last sweep of dead ones; the next sweep runs at twice as many.
    swept_at: usize,
}

/// Entries below which dead ones are not swept.
const SWEEP_FLOOR: usize = 1024;

impl Shapes {
    /// The shared copy of `shape`, and whether it is new (its bytes are then its first
    /// holder's, for the cache's weight).
    pub fn share(&self, shape: SharedClaims) -> (Arc<SharedClaims>, bool) {
        let mut set = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Two shapes whose hashes collide are compared in full; the second is kept unshared.
        let hash = set.hasher.hash_one(&shape);
        if let Some(found) = set.by_hash.get(&hash).and_then(Weak::upgrade)
            && *found == shape
        {
            return (found, false);
        }
        let new = Arc::new(shape);
        set.by_hash.insert(hash, Arc::downgrade(&new));
        if set.by_hash.len() >= set.swept_at.max(SWEEP_FLOOR) * 2 {
            set.by_hash.retain(|_, w| w.strong_count() > 0);
            set.swept_at = set.by_hash.len();
        }
        (new, true)
    }

    /// Shapes held by the set, dead or alive (for tests).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .len()
    }

    /// Whether the set holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A small shared part for tests of this module and its neighbours.
#[cfg(test)]
pub(super) fn sample(sub: &str, token_use: Option<&str>) -> SharedClaims {
    SharedClaims {
        iss: "https://issuer.test".into(),
        sub: sub.into(),
        token_use: token_use.map(Into::into),
        client_id: None,
        aud: Box::new([]),
        scopes: Box::new(["read".into()]),
        username: None,
        email: None,
        amr: Box::new([]),
        raw: OtherClaims::default(),
        groups: vec!["staff".into()],
        platform_admin: false,
        kid: "k1".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(sub: &str) -> SharedClaims {
        sample(sub, None)
    }

    #[test]
    fn equal_shapes_are_one_allocation_while_held() {
        let shapes = Shapes::default();
        let (a, new_a) = shapes.share(shape("alice"));
        let (b, new_b) = shapes.share(shape("alice"));
        assert!(new_a && !new_b);
        assert!(Arc::ptr_eq(&a, &b));
        let (c, new_c) = shapes.share(shape("bob"));
        assert!(new_c && !Arc::ptr_eq(&a, &c));
        drop((a, b));
        let (_, again) = shapes.share(shape("alice"));
        assert!(again, "once no token holds it, a shape is made anew");
    }

    #[test]
    fn dead_shapes_are_swept() {
        let shapes = Shapes::default();
        for i in 0..SWEEP_FLOOR * 3 {
            drop(shapes.share(shape(&format!("user-{i}"))));
        }
        assert!(shapes.len() < SWEEP_FLOOR * 2, "{} entries", shapes.len());
    }
}
