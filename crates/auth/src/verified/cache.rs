//! The verified-token cache: token digest to verification, bounded by its number of entries and
//! by the weight in bytes of what they hold, a clock (second chance) sweep choosing what goes.
//!
//! Its bookkeeping is near a plain hash table's (measured in docs/benchmarks.md, "Lean hot
//! path"): each shard keeps its entries in one dense vector and finds them through an
//! open-addressing index of `u32` positions, probed from the digest's first bytes. A SHA-256
//! digest is already uniform, and only verified tokens are inserted, so no hasher is needed
//! against crafted keys.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The key: the SHA-256 of the whole token.
pub type Digest = [u8; 32];

/// Shards, so that the requests of several cores rarely wait on one lock.
const SHARDS: usize = 16;
/// Entries of one shard at most (the index holds `u32` positions, 0 meaning empty).
const MAX_SLOTS: usize = (u32::MAX - 1) as usize;

/// A cache of `V` by token digest. Each entry is reused until its `until` second, weighs what
/// its inserter says, and is evicted, when either bound is passed, by a clock sweep: an entry
/// read since the hand last passed gets a second chance, one past its `until` none.
pub struct TokenCache<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    max_entries: usize,
    max_bytes: u64,
    entries: AtomicUsize,
    bytes: AtomicU64,
}

impl<V> std::fmt::Debug for TokenCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.len())
            .field("bytes", &self.weight())
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

struct Slot<V> {
    key: Digest,
    value: V,
    until: i64,
    weight: u32,
    referenced: bool,
}

struct Shard<V> {
    /// Open addressing with linear probing: 0 is empty, `i + 1` is `slots[i]`. Its length is
    /// zero or a power of two, at most three quarters full.
    index: Vec<u32>,
    slots: Vec<Slot<V>>,
    /// The clock hand, a position in `slots`.
    hand: usize,
    /// Entries this shard is expected to hold when the cache is full: its vector grows by
    /// doubling up to that, by an eighth beyond it.
    expected: usize,
}

/// What one entry costs the cache beyond its value's own allocations: its slot, and its share
/// of the index (between 5.3 and 10.7 bytes at a load of 3/8 to 3/4).
pub const fn entry_overhead<V>() -> usize {
    std::mem::size_of::<Slot<V>>() + 8
}

impl<V> TokenCache<V> {
    /// A cache of at most `max_entries` entries weighing at most `max_bytes` in all; either
    /// at 0 turns it off.
    pub fn new(max_entries: u64, max_bytes: u64) -> Self {
        let max_entries = usize::try_from(max_entries).unwrap_or(usize::MAX);
        let expected = (max_entries / SHARDS).saturating_add(max_entries / SHARDS / 32 + 1);
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        index: Vec::new(),
                        slots: Vec::new(),
                        hand: 0,
                        expected,
                    })
                })
                .collect(),
            max_entries,
            max_bytes,
            entries: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Whether the cache keeps anything at all.
    pub fn enabled(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }

    /// The value of `key`, unless absent or past its `until` (then it is dropped). A hit marks
    /// the entry for a second chance.
    pub fn get(&self, key: &Digest, now: i64) -> Option<V>
    where
        V: Clone,
    {
        let mut shard = self.shard(key);
        let (pos, i) = shard.find(key)?;
        if now >= shard.slots[i].until {
            let gone = shard.remove_at(pos, i);
            self.forget(&gone);
            return None;
        }
        let slot = &mut shard.slots[i];
        slot.referenced = true;
        Some(slot.value.clone())
    }

    /// Keeps `value` under `key` until the second `until`, weighing `weight` bytes, replacing
    /// what `key` held; then evicts until both bounds hold again. A value heavier than the
    /// whole budget is not kept.
    pub fn insert(&self, key: Digest, value: V, weight: u32, until: i64, now: i64) {
        if !self.enabled() {
            return;
        }
        let home = shard_of(&key);
        {
            let mut shard = self.lock(home);
            if let Some((pos, i)) = shard.find(&key) {
                let old = shard.remove_at(pos, i);
                self.forget(&old);
            }
            if u64::from(weight) > self.max_bytes || now >= until {
                return;
            }
            if shard.slots.len() >= MAX_SLOTS
                && let Some(gone) = shard.evict_one(now, None)
            {
                self.forget(&gone);
            }
            shard.push(Slot {
                key,
                value,
                until,
                weight,
                referenced: false,
            });
            self.entries.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(u64::from(weight), Ordering::Relaxed);
            self.evict_from(&mut shard, now, Some(&key));
        }
        // The inserting shard holds nothing else to evict and the cache is still over: the
        // others give way.
        for k in 1..SHARDS {
            if !self.over() {
                break;
            }
            let mut shard = self.lock((home + k) % SHARDS);
            self.evict_from(&mut shard, now, None);
        }
    }

    /// Drops the entry of `key`, if any.
    pub fn remove(&self, key: &Digest) {
        let mut shard = self.shard(key);
        if let Some((pos, i)) = shard.find(key) {
            let gone = shard.remove_at(pos, i);
            self.forget(&gone);
        }
    }

    /// Drops every entry whose value fails `keep`.
    pub fn retain(&self, keep: impl Fn(&V) -> bool) {
        for k in 0..SHARDS {
            let mut shard = self.lock(k);
            let before = shard.slots.len();
            let mut freed = 0u64;
            shard.slots.retain(|s| {
                let kept = keep(&s.value);
                if !kept {
                    freed += u64::from(s.weight);
                }
                kept
            });
            let dropped = before - shard.slots.len();
            if dropped > 0 {
                let len = shard.index.len();
                shard.rebuild_index(len);
                self.entries.fetch_sub(dropped, Ordering::Relaxed);
                self.bytes.fetch_sub(freed, Ordering::Relaxed);
            }
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sum of the entries' weights.
    pub fn weight(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn over(&self) -> bool {
        self.entries.load(Ordering::Relaxed) > self.max_entries
            || self.bytes.load(Ordering::Relaxed) > self.max_bytes
    }

    /// Evicts from `shard` while the cache is over a bound, sparing the entry of `spare`.
    fn evict_from(&self, shard: &mut Shard<V>, now: i64, spare: Option<&Digest>) {
        while self.over() {
            match shard.evict_one(now, spare) {
                Some(gone) => self.forget(&gone),
                None => break,
            }
        }
    }

    fn forget(&self, gone: &Slot<V>) {
        self.entries.fetch_sub(1, Ordering::Relaxed);
        self.bytes
            .fetch_sub(u64::from(gone.weight), Ordering::Relaxed);
    }

    fn shard(&self, key: &Digest) -> MutexGuard<'_, Shard<V>> {
        self.lock(shard_of(key))
    }

    fn lock(&self, k: usize) -> MutexGuard<'_, Shard<V>> {
        // A panic while holding a shard leaves it consistent between operations.
        self.shards[k].lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shard of a key: from other bytes than the index position.
fn shard_of(key: &Digest) -> usize {
    usize::from(key[31]) % SHARDS
}

/// Where the index probe of `key` starts, before masking.
fn probe_start(key: &Digest) -> usize {
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[..8]);
    // Truncation on 32-bit targets keeps the low bits, which is all the mask uses.
    u64::from_le_bytes(b) as usize
}

impl<V> Shard<V> {
    fn mask(&self) -> usize {
        self.index.len().wrapping_sub(1)
    }

    /// The index position and slot of `key`.
    fn find(&self, key: &Digest) -> Option<(usize, usize)> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut pos = probe_start(key) & mask;
        loop {
            let e = self.index[pos];
            if e == 0 {
                return None;
            }
            let i = (e - 1) as usize;
            if self.slots[i].key == *key {
                return Some((pos, i));
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The index position that refers to `slots[i]`.
    fn position_of(&self, i: usize) -> usize {
        let mask = self.mask();
        let mut pos = probe_start(&self.slots[i].key) & mask;
        let want = index_entry(i);
        while self.index[pos] != want {
            pos = (pos + 1) & mask;
        }
        pos
    }

    fn push(&mut self, slot: Slot<V>) {
        if (self.slots.len() + 1) * 4 > self.index.len() * 3 {
            self.rebuild_index((self.index.len() * 2).max(16));
        }
        if self.slots.len() == self.slots.capacity() {
            let cap = self.slots.capacity();
            let target = if cap * 2 <= self.expected {
                (cap * 2).max(4)
            } else {
                self.expected.max(cap + cap / 8 + 1)
            };
            self.slots.reserve_exact(target - cap);
        }
        let i = self.slots.len();
        let mask = self.mask();
        let mut pos = probe_start(&slot.key) & mask;
        while self.index[pos] != 0 {
            pos = (pos + 1) & mask;
        }
        self.index[pos] = index_entry(i);
        self.slots.push(slot);
    }

    /// Removes the entry at index position `pos`, slot `i`.
    fn remove_at(&mut self, pos: usize, i: usize) -> Slot<V> {
        // Backward-shift deletion: later entries of the probe run move into the hole when
        // their own start allows, so no tombstone is left.
        let mask = self.mask();
        let mut hole = pos;
        let mut j = pos;
        loop {
            j = (j + 1) & mask;
            let e = self.index[j];
            if e == 0 {
                break;
            }
            let start = probe_start(&self.slots[(e - 1) as usize].key) & mask;
            if (j.wrapping_sub(start) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.index[hole] = e;
                hole = j;
            }
        }
        self.index[hole] = 0;
        // The last slot fills the gap; its index entry follows it.
        let last = self.slots.len() - 1;
        if i != last {
            let moved = self.position_of(last);
            self.index[moved] = index_entry(i);
        }
        self.slots.swap_remove(i)
    }

    /// Evicts the first entry the hand meets that is past its `until` or unread since the
    /// hand last passed (clearing the marks of those it passes), other than `spare`'s.
    fn evict_one(&mut self, now: i64, spare: Option<&Digest>) -> Option<Slot<V>> {
        let n = self.slots.len();
        // Two turns at most: the first clears every mark it passes.
        if n == 0 {
            return None;
        }
        for _ in 0..=2 * n {
            if self.hand >= self.slots.len() {
                self.hand = 0;
            }
            let i = self.hand;
            let slot = &mut self.slots[i];
            if spare == Some(&slot.key) {
                self.hand += 1;
            } else if slot.referenced && now < slot.until {
                slot.referenced = false;
                self.hand += 1;
            } else {
                let pos = self.position_of(i);
                let gone = self.remove_at(pos, i);
                // The last entry, the newest, took this place: it is met at the end of the turn.
                self.hand = i + 1;
                return Some(gone);
            }
        }
        None
    }

    fn rebuild_index(&mut self, len: usize) {
        let mut len = len.max(16);
        while self.slots.len() * 4 > len * 3 {
            len *= 2;
        }
        self.index.clear();
        self.index.resize(len, 0);
        self.index.shrink_to_fit();
        let mask = len - 1;
        for (i, slot) in self.slots.iter().enumerate() {
            let mut pos = probe_start(&slot.key) & mask;
            while self.index[pos] != 0 {
                pos = (pos + 1) & mask;
            }
            self.index[pos] = index_entry(i);
        }
    }
}

fn index_entry(i: usize) -> u32 {
    // `i < MAX_SLOTS` is kept by `insert`.
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> Digest {
        // Spread like a digest: the probe start and shard come from different bytes.
        let mut k = [0u8; 32];
        let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        k[..8].copy_from_slice(&h.to_le_bytes());
        k[8..16].copy_from_slice(&n.to_le_bytes());
        k[31] = (h >> 56) as u8;
        k
    }

    /// Keys that all land in one shard and start their probe at one index position.
    fn colliding(n: u64) -> Digest {
        let mut k = [0u8; 32];
        k[8..16].copy_from_slice(&n.to_le_bytes());
        k
    }

    #[test]
    fn entries_are_found_until_removed() {
        let c = TokenCache::new(1000, 1 << 20);
        for n in 0..500 {
            c.insert(key(n), n, 10, 100, 0);
        }
        assert_eq!((c.len(), c.weight()), (500, 5000));
        for n in 0..500 {
            assert_eq!(c.get(&key(n), 0), Some(n));
        }
        for n in (0..500).step_by(2) {
            c.remove(&key(n));
        }
        for n in 0..500 {
            assert_eq!(c.get(&key(n), 0), (n % 2 == 1).then_some(n), "key {n}");
        }
        assert_eq!((c.len(), c.weight()), (250, 2500));
    }

    #[test]
    fn removal_inside_a_probe_run_keeps_the_rest_findable() {
        let c = TokenCache::new(1000, 1 << 20);
        for n in 0..10 {
            c.insert(colliding(n), n, 1, 100, 0);
        }
        for n in [0, 5, 9, 3] {
            c.remove(&colliding(n));
            assert_eq!(c.get(&colliding(n), 0), None);
        }
        for n in [1, 2, 4, 6, 7, 8] {
            assert_eq!(c.get(&colliding(n), 0), Some(n), "key {n}");
        }
    }

    #[test]
    fn a_new_value_replaces_the_old_and_its_weight() {
        let c = TokenCache::new(10, 1000);
        c.insert(key(1), "a", 100, 100, 0);
        c.insert(key(1), "b", 30, 100, 0);
        assert_eq!(c.get(&key(1), 0), Some("b"));
        assert_eq!((c.len(), c.weight()), (1, 30));
    }

    #[test]
    fn the_byte_budget_holds_and_unread_entries_go_first() {
        // One shard, so that the clock's order is the whole cache's.
        let key = colliding;
        let c = TokenCache::new(1_000_000, 100 * 50);
        for n in 0..50 {
            c.insert(key(n), n, 100, 1000, 0);
        }
        assert_eq!(c.len(), 50, "exactly the budget");
        // Read half of them: they get a second chance.
        for n in 0..25 {
            assert_eq!(c.get(&key(n), 0), Some(n));
        }
        for n in 50..60 {
            c.insert(key(n), n, 100, 1000, 0);
            assert!(c.weight() <= 5000, "over the budget: {}", c.weight());
        }
        assert_eq!(c.len(), 50);
        let kept_read = (0..25).filter(|&n| c.get(&key(n), 0).is_some()).count();
        let kept_unread = (25..50).filter(|&n| c.get(&key(n), 0).is_some()).count();
        assert_eq!((kept_read, kept_unread), (25, 15), "the unread went first");
        for n in 50..60 {
            assert_eq!(c.get(&key(n), 0), Some(n), "the newest stays");
        }
    }

    #[test]
    fn heavy_entries_push_out_light_ones_by_weight() {
        let c = TokenCache::new(1_000_000, 1000);
        for n in 0..10 {
            c.insert(key(n), n, 100, 1000, 0);
        }
        c.insert(key(100), 100, 550, 1000, 0);
        assert!(c.weight() <= 1000);
        assert_eq!(c.len(), 5, "six light entries gave way to one heavy");
        assert_eq!(c.get(&key(100), 0), Some(100));
        c.insert(key(101), 101, 1001, 1000, 0);
        assert_eq!(c.get(&key(101), 0), None, "heavier than the whole budget");
    }

    #[test]
    fn the_entry_bound_holds_whatever_the_weights() {
        let c = TokenCache::new(100, u64::MAX);
        for n in 0..1000 {
            c.insert(key(n), n, 1, 1000, 0);
            assert!(c.len() <= 100);
        }
        assert_eq!(c.len(), 100);
        let found = (0..1000).filter(|&n| c.get(&key(n), 0).is_some()).count();
        assert_eq!(found, 100);
    }

    #[test]
    fn entries_past_their_until_are_not_answered_nor_spared() {
        let key = colliding;
        let c = TokenCache::new(3, 1000);
        c.insert(key(1), 1, 1, 10, 0);
        c.insert(key(2), 2, 1, 20, 0);
        c.insert(key(3), 3, 1, 20, 0);
        assert_eq!(c.get(&key(1), 9), Some(1));
        assert_eq!(c.get(&key(1), 10), None);
        assert_eq!(c.len(), 2, "dropped when met");
        c.insert(key(1), 1, 1, 10, 0);
        for n in [1, 2, 3] {
            assert_eq!(c.get(&key(n), 5), Some(n));
        }
        c.insert(key(4), 4, 1, 30, 15);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&key(1), 5), None, "read, but stale: evicted");
        assert_eq!(c.get(&key(2), 15), Some(2));
        assert_eq!(c.get(&key(3), 15), Some(3));
        assert_eq!(c.get(&key(4), 15), Some(4));
    }

    #[test]
    fn retain_drops_what_fails_and_keeps_the_rest_findable() {
        let c = TokenCache::new(10_000, 1 << 20);
        for n in 0..2000 {
            c.insert(key(n), n, 3, 100, 0);
        }
        c.retain(|v| v % 3 != 0);
        for n in 0..2000 {
            assert_eq!(c.get(&key(n), 0), (n % 3 != 0).then_some(n), "key {n}");
        }
        assert_eq!(c.len(), (0..2000).filter(|n| n % 3 != 0).count());
        assert_eq!(c.weight(), 3 * c.len() as u64);
    }

    #[test]
    fn a_zero_bound_keeps_nothing() {
        for (entries, bytes) in [(0, 1000), (10, 0)] {
            let c = TokenCache::new(entries, bytes);
            c.insert(key(1), 1, 1, 100, 0);
            assert_eq!(c.get(&key(1), 0), None);
            assert!(c.is_empty());
        }
    }

    #[test]
    fn many_inserts_and_evictions_stay_consistent() {
        let c = TokenCache::new(300, 1 << 20);
        let mut live = std::collections::HashSet::new();
        for n in 0..5000u64 {
            c.insert(key(n % 700), n % 700, 1, 1_000_000, 0);
            live.insert(n % 700);
            if n % 7 == 0 {
                c.remove(&key((n * 13) % 700));
            }
            assert!(c.len() <= 300);
        }
        let found = live
            .iter()
            .filter(|&&n| c.get(&key(n), 0) == Some(n))
            .count();
        assert_eq!(found, c.len(), "every entry counted is findable");
    }
}
