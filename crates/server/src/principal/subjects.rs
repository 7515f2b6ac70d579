//! The principal cache's storage: identities by (issuer, sub) in locked shards, each kept for a
//! fixed time from its insertion, the whole bounded by bytes and by count, oldest out first.
//!
//! Why not a general-purpose cache: a lookup here runs on every authenticated request, and
//! moka's read path (hashing an owned key, recording the read in a queue every core writes,
//! running its maintenance inline) cost more than the rest of the principal step. A lookup
//! here borrows the token's strings, takes one shard lock and reads one clock.
//!
//! Oldest out first is the right order for a cache whose entries all live the same time from
//! insertion: the oldest is the one closest to expiring anyway.

use super::SubjectKey;
use hashbrown::HashTable;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SHARDS: usize = 16;

pub struct SubjectMap<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    hasher: hashbrown::DefaultHashBuilder,
    ttl: Duration,
    /// Per shard: the budget and the count are split evenly, as keys are spread evenly.
    max_bytes: u64,
    max_entries: usize,
}

struct Entry<V> {
    key: SubjectKey,
    value: V,
    until: Instant,
    weight: u32,
    /// Which insertion this is, so that a stale place in `order` is recognised.
    seq: u64,
}

struct Shard<V> {
    table: HashTable<Entry<V>>,
    /// Insertions, oldest first, as (hash, seq); places whose entry was since removed or
    /// replaced are skipped when they come up, and compacted away when they pile up.
    order: VecDeque<(u64, u64)>,
    bytes: u64,
    next_seq: u64,
}

impl<V> Shard<V> {
    fn new() -> Self {
        Self {
            table: HashTable::new(),
            order: VecDeque::new(),
            bytes: 0,
            next_seq: 0,
        }
    }

    fn take(&mut self, hash: u64, is: impl Fn(&Entry<V>) -> bool) -> Option<Entry<V>> {
        let found = self.table.find_entry(hash, is).ok()?;
        let (entry, _) = found.remove();
        self.bytes -= u64::from(entry.weight);
        Some(entry)
    }

    /// Drops the oldest insertion still present; false when there is none.
    fn drop_oldest(&mut self) -> bool {
        while let Some((hash, seq)) = self.order.pop_front() {
            if self.take(hash, |e| e.seq == seq).is_some() {
                return true;
            }
        }
        false
    }

    /// Drops the expired entries at the front of the insertion order.
    fn drop_expired(&mut self, now: Instant) {
        while let Some(&(hash, seq)) = self.order.front() {
            match self
                .table
                .find(hash, |e| e.seq == seq)
                .map(|e| e.until > now)
            {
                Some(true) => return,
                Some(false) => {
                    self.take(hash, |e| e.seq == seq);
                }
                None => {}
            }
            self.order.pop_front();
        }
    }

    fn compact_order(&mut self) {
        let table = &self.table;
        self.order
            .retain(|&(hash, seq)| table.find(hash, |e| e.seq == seq).is_some());
    }
}

impl<V: Clone> SubjectMap<V> {
    pub fn new(ttl: Duration, max_bytes: u64, max_entries: u64) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::new())).collect(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            ttl,
            max_bytes: max_bytes / SHARDS as u64,
            max_entries: usize::try_from(max_entries / SHARDS as u64).unwrap_or(usize::MAX),
        }
    }

    fn hash(&self, issuer: &str, sub: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(issuer.as_bytes());
        // A separator, so that ("ab", "c") and ("a", "bc") do not share every hash.
        h.write_u8(0xff);
        h.write(sub.as_bytes());
        h.finish()
    }

    fn shard(&self, hash: u64) -> MutexGuard<'_, Shard<V>> {
        // Bits the table does not use for its buckets or its control bytes.
        let i = (hash >> 32) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live entry of (`issuer`, `sub`).
    pub fn get(&self, issuer: &str, sub: &str) -> Option<V> {
        let hash = self.hash(issuer, sub);
        let is = |e: &Entry<V>| *e.key.issuer == *issuer && *e.key.sub == *sub;
        let mut shard = self.shard(hash);
        let entry = shard.table.find(hash, is)?;
        if entry.until > Instant::now() {
            return Some(entry.value.clone());
        }
        shard.take(hash, is);
        None
    }

    /// Keeps `value` for `key`, in place of any earlier one, and makes room for it. A value
    /// heavier than a shard's whole budget is not kept.
    pub fn insert(&self, key: SubjectKey, value: V, weight: u32) {
        let hash = self.hash(&key.issuer, &key.sub);
        let now = Instant::now();
        let mut shard = self.shard(hash);
        shard.take(hash, |e| e.key == key);
        if u64::from(weight) > self.max_bytes {
            return;
        }
        shard.drop_expired(now);
        while shard.bytes + u64::from(weight) > self.max_bytes
            || shard.table.len() >= self.max_entries.max(1)
        {
            if !shard.drop_oldest() {
                break;
            }
        }
        let seq = shard.next_seq;
        shard.next_seq += 1;
        shard.bytes += u64::from(weight);
        shard.order.push_back((hash, seq));
        let hasher = |e: &Entry<V>| self.hash(&e.key.issuer, &e.key.sub);
        shard.table.insert_unique(
            hash,
            Entry {
                key,
                value,
                until: now + self.ttl,
                weight,
                seq,
            },
            hasher,
        );
        if shard.order.len() > 2 * shard.table.len() + 64 {
            shard.compact_order();
        }
    }

    pub fn remove(&self, issuer: &str, sub: &str) {
        let hash = self.hash(issuer, sub);
        self.shard(hash)
            .take(hash, |e| *e.key.issuer == *issuer && *e.key.sub == *sub);
    }

    /// Drops every entry whose value matches `pred`.
    pub fn remove_where(&self, pred: impl Fn(&V) -> bool) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let mut freed = 0;
            shard.table.retain(|e| {
                let drop = pred(&e.value);
                if drop {
                    freed += u64::from(e.weight);
                }
                !drop
            });
            shard.bytes -= freed;
            shard.compact_order();
        }
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            *shard.lock().unwrap_or_else(|p| p.into_inner()) = Shard::new();
        }
    }

    /// Entries held (expired ones not yet dropped included) and their weight, for tests.
    #[cfg(test)]
    pub fn usage(&self) -> (usize, u64) {
        self.shards.iter().fold((0, 0), |(n, b), s| {
            let s = s.lock().unwrap_or_else(|p| p.into_inner());
            (n + s.table.len(), b + s.bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sub: &str) -> SubjectKey {
        SubjectKey::from(("https://issuer.test", sub))
    }

    fn map(ttl: Duration, max_bytes: u64, max_entries: u64) -> SubjectMap<u32> {
        SubjectMap::new(ttl, max_bytes, max_entries)
    }

    #[test]
    fn a_value_is_found_by_its_subject_and_no_other() {
        let m = map(Duration::from_secs(60), 1 << 20, 1000);
        m.insert(key("alice"), 1, 10);
        assert_eq!(m.get("https://issuer.test", "alice"), Some(1));
        assert_eq!(m.get("https://issuer.test", "bob"), None);
        assert_eq!(m.get("https://other.test", "alice"), None);
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        m.insert(SubjectKey::from(("ab", "c")), 2, 10);
        assert_eq!(m.get("a", "bc"), None);
        assert_eq!(m.get("ab", "c"), Some(2));
    }

    #[test]
    fn an_entry_lives_its_time_to_live_and_no_longer() {
        let m = map(Duration::from_millis(50), 1 << 20, 1000);
        m.insert(key("alice"), 1, 10);
        assert_eq!(m.get("https://issuer.test", "alice"), Some(1));
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(m.get("https://issuer.test", "alice"), None);
        assert_eq!(
            m.usage(),
            (0, 0),
            "the expired entry is dropped on its lookup"
        );
    }

    #[test]
    fn a_second_insert_replaces_the_first_and_its_weight() {
        let m = map(Duration::from_secs(60), 1 << 20, 1000);
        m.insert(key("alice"), 1, 10);
        m.insert(key("alice"), 2, 30);
        assert_eq!(m.get("https://issuer.test", "alice"), Some(2));
        assert_eq!(m.usage(), (1, 30));
    }

    /// One shard's budget, filled by keys that land in that shard: the oldest goes first.
    #[test]
    fn over_the_budget_the_oldest_entry_goes_first() {
        // 16 shards of 100 bytes each.
        let m = map(Duration::from_secs(60), 1600, 1000);
        let shard_of = |sub: &str| (m.hash("https://issuer.test", sub) >> 32) as usize % SHARDS;
        let target = shard_of("u0");
        let subs: Vec<String> = (0..)
            .map(|i| format!("u{i}"))
            .filter(|s| shard_of(s) == target)
            .take(4)
            .collect();
        for (i, s) in subs.iter().take(3).enumerate() {
            m.insert(key(s), i as u32, 40);
        }
        // 40 + 40 fit in 100; the third pushed out the first.
        assert_eq!(m.get("https://issuer.test", &subs[0]), None);
        assert_eq!(m.get("https://issuer.test", &subs[1]), Some(1));
        assert_eq!(m.get("https://issuer.test", &subs[2]), Some(2));
        m.insert(key(&subs[3]), 3, 40);
        assert_eq!(m.get("https://issuer.test", &subs[1]), None);
        assert_eq!(m.usage(), (2, 80));
    }

    #[test]
    fn the_entry_count_is_bounded_too() {
        let m = map(Duration::from_secs(60), 1 << 30, 16 * 2);
        for i in 0..1000 {
            m.insert(key(&format!("u{i}")), i, 1);
        }
        let (n, _) = m.usage();
        assert!(n <= 32, "{n} entries");
        assert_eq!(m.get("https://issuer.test", "u999"), Some(999));
    }

    #[test]
    fn a_value_heavier_than_a_shard_is_not_kept() {
        let m = map(Duration::from_secs(60), 1600, 1000);
        m.insert(key("alice"), 1, 101);
        assert_eq!(m.get("https://issuer.test", "alice"), None);
        assert_eq!(m.usage(), (0, 0));
    }

    #[test]
    fn removal_by_subject_by_value_and_of_everything() {
        let m = map(Duration::from_secs(60), 1 << 20, 1000);
        for i in 0..10 {
            m.insert(key(&format!("u{i}")), i, 10);
        }
        m.remove("https://issuer.test", "u0");
        assert_eq!(m.get("https://issuer.test", "u0"), None);
        m.remove_where(|v| v % 2 == 0);
        assert_eq!(m.usage(), (5, 50));
        assert_eq!(m.get("https://issuer.test", "u3"), Some(3));
        m.clear();
        assert_eq!(m.usage(), (0, 0));
    }

    /// Removals leave places in the insertion order behind; they are compacted, not kept.
    #[test]
    fn churn_does_not_grow_the_insertion_order() {
        let m = map(Duration::from_secs(60), 1 << 20, 1000);
        for i in 0..10_000 {
            m.insert(key("alice"), i, 10);
            m.remove("https://issuer.test", "alice");
        }
        let places: usize = m
            .shards
            .iter()
            .map(|s| s.lock().map(|s| s.order.len()).unwrap_or(0))
            .sum();
        assert!(places <= 64 + 1, "{places} places for no entries");
    }
}
