//! This instance's caps on sockets and exports (`[ws]`): open sockets per user, sockets still
//! waiting for their `auth` message, and running exports per user. Each admitted socket or
//! export holds a [`Seat`], which gives its place back when dropped, however the socket or
//! export ends (closed, refused, aborted, panicked).

use crate::config::WsConfig;
use portcullis_store::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Shared by every socket of the instance; cheap to clone.
#[derive(Debug, Clone)]
pub struct Caps(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    max_unauthenticated: usize,
    max_sockets_per_user: usize,
    max_exports_per_user: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    unauthenticated: usize,
    sockets: HashMap<UserId, usize>,
    exports: HashMap<UserId, usize>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Unauthenticated,
    Socket(UserId),
    Export(UserId),
}

/// A place under one of the caps, given back on drop.
#[derive(Debug)]
pub struct Seat {
    caps: Arc<Inner>,
    kind: Kind,
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Caps {
    pub fn new(config: &WsConfig) -> Self {
        Self(Arc::new(Inner {
            max_unauthenticated: to_usize(config.max_unauthenticated),
            max_sockets_per_user: to_usize(config.max_sockets_per_user),
            max_exports_per_user: to_usize(config.max_exports_per_user),
            counts: Mutex::new(Counts::default()),
        }))
    }

    /// A socket upgraded without a token, until it has authenticated (or ended).
    pub fn unauthenticated(&self) -> Option<Seat> {
        self.take(Kind::Unauthenticated)
    }

    /// An authenticated socket of `user`, for as long as it is open.
    pub fn socket(&self, user: UserId) -> Option<Seat> {
        self.take(Kind::Socket(user))
    }

    /// A running export of `user`, on any of their sockets.
    pub fn export(&self, user: UserId) -> Option<Seat> {
        self.take(Kind::Export(user))
    }

    fn take(&self, kind: Kind) -> Option<Seat> {
        let inner = &self.0;
        let mut counts = inner.lock();
        let (count, max) = match kind {
            Kind::Unauthenticated => (&mut counts.unauthenticated, inner.max_unauthenticated),
            Kind::Socket(user) => (
                counts.sockets.entry(user).or_default(),
                inner.max_sockets_per_user,
            ),
            Kind::Export(user) => (
                counts.exports.entry(user).or_default(),
                inner.max_exports_per_user,
            ),
        };
        if *count >= max {
            // The caps are at least 1, so a refused user already has an entry to keep.
            return None;
        }
        *count += 1;
        Some(Seat {
            caps: Arc::clone(inner),
            kind,
        })
    }
}

impl Inner {
    /// The counts stay consistent even if a holder panicked: every update is one step.
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut counts = self.caps.lock();
        let release = |map: &mut HashMap<UserId, usize>, user: UserId| {
            if let Some(n) = map.get_mut(&user) {
                *n = n.saturating_sub(1);
                // Users without sockets take no memory.
                if *n == 0 {
                    map.remove(&user);
                }
            }
        };
        match self.kind {
            Kind::Unauthenticated => {
                counts.unauthenticated = counts.unauthenticated.saturating_sub(1);
            }
            Kind::Socket(user) => release(&mut counts.sockets, user),
            Kind::Export(user) => release(&mut counts.exports, user),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Caps {
        Caps::new(&WsConfig {
            max_sockets_per_user: 2,
            max_unauthenticated: 1,
            max_exports_per_user: 1,
        })
    }

    #[test]
    fn sockets_are_capped_per_user_and_given_back_on_drop() {
        let caps = caps();
        let (alice, bob) = (UserId::new(), UserId::new());
        let first = caps.socket(alice).expect("first");
        let _second = caps.socket(alice).expect("second");
        assert!(caps.socket(alice).is_none(), "third of the same user");
        let _bobs = caps.socket(bob).expect("another user is counted apart");
        drop(first);
        assert!(
            caps.socket(alice).is_some(),
            "a closed socket frees its place"
        );
    }

    #[test]
    fn unauthenticated_sockets_and_exports_have_their_own_caps() {
        let caps = caps();
        let alice = UserId::new();
        let waiting = caps.unauthenticated().expect("first");
        assert!(caps.unauthenticated().is_none());
        let export = caps.export(alice).expect("export");
        assert!(caps.export(alice).is_none());
        assert!(caps.socket(alice).is_some(), "sockets are counted apart");
        drop((waiting, export));
        assert!(caps.unauthenticated().is_some());
        assert!(caps.export(alice).is_some());
    }

    #[test]
    fn users_without_seats_leave_no_entry() {
        let caps = caps();
        let seats: Vec<_> = (0..10).filter_map(|_| caps.socket(UserId::new())).collect();
        assert_eq!(caps.0.lock().sockets.len(), 10);
        drop(seats);
        assert!(caps.0.lock().sockets.is_empty());
    }
}
