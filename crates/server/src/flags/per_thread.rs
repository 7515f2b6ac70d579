//! Each thread's copy of the current flag snapshot, so that the request path reads flags
//! without writing to memory the other cores read.
//!
//! Why: a request checks three or four flags, and each `RwLock` read and `Arc` clone of the
//! shared snapshot is an atomic write to a cache line that every core then has to fetch back.
//! Here a thread re-reads the shared snapshot only when its version moved (a reload), and
//! otherwise reads its own copy after one plain load of the version.

use super::Snapshot;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells apart the `Flags` of one process (tests run many servers on the same threads).
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static COPY: RefCell<Option<Copy>> = const { RefCell::new(None) };
}

struct Copy {
    owner: u64,
    version: u64,
    snapshot: Arc<Snapshot>,
}

/// The version of one `Flags`' snapshot: bumped after every replacement.
#[derive(Debug)]
pub struct Versioned {
    owner: u64,
    version: AtomicU64,
}

impl Default for Versioned {
    fn default() -> Self {
        Self::new()
    }
}

impl Versioned {
    pub fn new() -> Self {
        Self {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            version: AtomicU64::new(0),
        }
    }

    /// To be called once a new snapshot is in place (after it, not before: a thread that sees
    /// the new version must find the new snapshot).
    pub fn bump(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Runs `read` on this thread's copy, first taking a new one with `current` if the shared
    /// snapshot was replaced since (or this thread has none of these flags yet).
    pub fn read<R>(&self, current: impl Fn() -> Arc<Snapshot>, read: impl Fn(&Snapshot) -> R) -> R {
        // Loaded before the snapshot is: a copy is never labelled newer than it is.
        let version = self.version.load(Ordering::Acquire);
        let local = COPY.try_with(|copy| {
            let Ok(mut copy) = copy.try_borrow_mut() else {
                return None;
            };
            let fresh = copy
                .as_ref()
                .is_some_and(|c| c.owner == self.owner && c.version == version);
            if !fresh {
                *copy = Some(Copy {
                    owner: self.owner,
                    version,
                    snapshot: current(),
                });
            }
            copy.as_ref().map(|c| read(&c.snapshot))
        });
        match local {
            Ok(Some(r)) => r,
            // The thread is exiting (its locals are gone): the shared snapshot it is.
            _ => read(&current()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::RwLock;

    fn snapshot(jit: bool) -> Arc<Snapshot> {
        let config = crate::config::Config::default();
        let mut s = Snapshot::defaults(&config, &[]);
        s.jit_provisioning = jit;
        Arc::new(s)
    }

    /// A replacement is read by the next read on a thread that held a copy, and two owners
    /// on one thread never read each other's copies.
    #[test]
    fn copies_follow_their_owner_and_its_version() {
        let (a, b) = (Versioned::new(), Versioned::new());
        let shared_a = RwLock::new(snapshot(true));
        let shared_b = RwLock::new(snapshot(false));
        let current = |l: &RwLock<Arc<Snapshot>>| Arc::clone(&l.read().expect("lock"));
        let jit = |s: &Snapshot| s.jit_provisioning;
        assert!(a.read(|| current(&shared_a), jit));
        assert!(!b.read(|| current(&shared_b), jit));
        assert!(a.read(|| current(&shared_a), jit), "not b's copy");
        *shared_a.write().expect("lock") = snapshot(false);
        assert!(
            a.read(|| current(&shared_a), jit),
            "until the version moves, the copy stands"
        );
        a.bump();
        assert!(!a.read(|| current(&shared_a), jit), "then it is replaced");
    }
}
