//! Each worker thread's copies of the identities it served last, in front of the principal
//! cache.
//!
//! Why: a hit in moka records the read in a queue that every core writes, and hashes the
//! (issuer, subject) key with SipHash; on every authenticated request. A copy here is a slot
//! of a small direct-mapped table that only this thread touches, found by a cheap hash and
//! confirmed by comparing the strings.
//!
//! A copy is used only while it is as good as the cache's entry: the cache's generation is the
//! one read before the copy was taken (every invalidation bumps it before and after), and the
//! identity is younger than the cache's time-to-live (`super::TIME_TO_LIVE`, from when it was
//! read from the database). Otherwise the lookup goes to the cache, as before.

use super::{Identity, SubjectKey, TIME_TO_LIVE};
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Slots per thread: more than the users one instance usually serves at once; a collision
/// only sends the lookup to the cache.
const SLOTS: usize = 256;

struct Held {
    cache: u64,
    generation: u64,
    key: SubjectKey,
    identity: Arc<Identity>,
}

thread_local! {
    static SLOTS_OF_THREAD: RefCell<Vec<Option<Held>>> = const { RefCell::new(Vec::new()) };
}

/// A process-unique id for a new cache (clones share it).
pub fn next_cache_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// FNV-1a over the issuer and the subject: the slot only, never trusted alone.
fn slot(issuer: &str, sub: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in issuer.bytes().chain([0xff]).chain(sub.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % SLOTS
}

/// This thread's copy of (issuer, sub) in `cache`, if it is still as good as the cache's entry.
pub fn get(cache: u64, generation: u64, issuer: &str, sub: &str) -> Option<Arc<Identity>> {
    let i = slot(issuer, sub);
    SLOTS_OF_THREAD.with(|slots| {
        let slots = slots.borrow();
        let copy = slots.get(i)?.as_ref()?;
        let current = copy.cache == cache
            && copy.generation == generation
            && *copy.key.issuer == *issuer
            && *copy.key.sub == *sub
            && copy.identity.loaded_at.elapsed() < TIME_TO_LIVE;
        current.then(|| Arc::clone(&copy.identity))
    })
}

/// Keeps a copy of what the cache just answered, tagged with the generation read before.
pub fn put(cache: u64, generation: u64, key: SubjectKey, identity: &Arc<Identity>) {
    let i = slot(&key.issuer, &key.sub);
    SLOTS_OF_THREAD.with(|slots| {
        let mut slots = slots.borrow_mut();
        if slots.is_empty() {
            slots.resize_with(SLOTS, || None);
        }
        if let Some(s) = slots.get_mut(i) {
            *s = Some(Held {
                cache,
                generation,
                key,
                identity: Arc::clone(identity),
            });
        }
    });
}
