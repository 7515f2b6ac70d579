//! One issuer's key set. Reads are lock-free (an `ArcSwap` load and a hash lookup); at most one
//! fetch per issuer is in flight; a token with an unknown `kid` may trigger a refetch, but not
//! more often than the cooldown allows, and kids that were looked for and not found are
//! remembered for the same time, so a flood of made-up kids costs the issuer nothing.
//! When the issuer fails, the keys we have keep working up to a maximum staleness; after that
//! verification fails closed.

use crate::clock::Clock;
use crate::jwks::source::{FetchError, FetchReason, Fetched, KeySource, Validators};
use crate::keys::VerifyingKey;
use crate::rejection::Rejection;
use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

#[derive(Debug, Clone)]
/// How an issuer's key set is fetched and kept.
pub struct JwksConfig {
    /// How often keys are refreshed in the background; an issuer's shorter `max-age` wins,
    /// but never below one minute.
    pub refresh_interval: Duration,
    /// Minimum time between two refetches caused by unknown kids.
    pub unknown_kid_cooldown: Duration,
    /// How long keys stay usable after the last successful fetch while the issuer fails.
    pub max_staleness: Duration,
    /// Bound on every fetch, connection included.
    pub fetch_timeout: Duration,
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            refresh_interval: Duration::from_secs(15 * 60),
            unknown_kid_cooldown: Duration::from_secs(10),
            max_staleness: Duration::from_secs(12 * 60 * 60),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// Told about every fetch, for metrics.
pub trait JwksObserver: Send + Sync + std::fmt::Debug {
    /// One fetch for `issuer` ended with `result` (`updated`, `not_modified`, `timeout`, ...).
    fn fetched(&self, issuer: &str, result: &'static str);
}

#[derive(Debug, Default)]
struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
    /// Last time the issuer confirmed these keys (200 or 304); `None` until the first load.
    confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
struct FetchState {
    validators: Validators,
    last_attempt: Option<DateTime<Utc>>,
    next_refresh: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// What a key set holds now, for readiness checks.
pub struct JwksStatus {
    /// Whether a key set was ever loaded.
    pub loaded: bool,
    /// Seconds since the issuer last confirmed the keys.
    pub age_secs: Option<i64>,
    /// How many keys it holds.
    pub keys: usize,
    /// Keys are loaded and not older than the maximum staleness.
    pub usable: bool,
}

#[derive(Debug)]
/// One issuer's keys: read without locks, fetched by one task at a time, refreshed in the background.
pub struct JwksCache {
    issuer: String,
    source: Box<dyn KeySource>,
    clock: Arc<dyn Clock>,
    config: JwksConfig,
    current: ArcSwap<KeySet>,
    generation: AtomicU64,
    fetch: tokio::sync::Mutex<FetchState>,
    not_found: Mutex<HashMap<String, DateTime<Utc>>>,
    observer: Option<Arc<dyn JwksObserver>>,
}

/// Bound on the remembered unknown kids; when full it is cleared rather than grown.
const MAX_NOT_FOUND: usize = 4096;

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl JwksCache {
    /// An empty key set for `issuer`, filled from `source`.
    pub fn new(
        issuer: impl Into<String>,
        source: Box<dyn KeySource>,
        clock: Arc<dyn Clock>,
        config: JwksConfig,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            source,
            clock,
            config,
            current: ArcSwap::from_pointee(KeySet::default()),
            generation: AtomicU64::new(0),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
            not_found: Mutex::new(HashMap::new()),
            observer: None,
        }
    }

    /// Tells `observer` about every fetch.
    pub fn with_observer(mut self, observer: Arc<dyn JwksObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The issuer whose keys these are.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The hot path: no lock, no await.
    pub fn lookup(&self, kid: &str) -> Result<Arc<VerifyingKey>, Rejection> {
        let set = self.current.load();
        if !self.fresh(&set) {
            return Err(Rejection::KeysUnavailable);
        }
        set.keys.get(kid).cloned().ok_or(Rejection::UnknownKid)
    }

    /// Whether `kid` is in the current key set (used to drop cached verifications whose key
    /// has left the JWKS), `now` being the caller's reading of the clock in Unix seconds: a
    /// cache hit has read it already for the token's times, and the set's staleness bound is
    /// then checked to the second.
    pub fn contains_at(&self, kid: &str, now: i64) -> bool {
        // Without taking the key out: cloning its `Arc` on every cache hit wrote to a counter
        // that every core's requests share.
        let set = self.current.load();
        let max = i64::try_from(self.config.max_staleness.as_secs()).unwrap_or(i64::MAX);
        let fresh = set
            .confirmed_at
            .is_some_and(|at| now.saturating_sub(at.timestamp()) <= max);
        fresh && set.keys.contains_key(kid)
    }

    fn fresh(&self, set: &KeySet) -> bool {
        set.confirmed_at
            .is_some_and(|at| self.clock.now() - at <= chrono(self.config.max_staleness))
    }

    /// Finds the key for `kid`, refetching once if it is unknown and the cooldown allows.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, Rejection> {
        match self.lookup(kid) {
            Ok(k) => return Ok(k),
            Err(Rejection::UnknownKid) if self.recently_not_found(kid) => {
                return Err(Rejection::UnknownKid);
            }
            Err(_) => {}
        }
        let seen = self.generation.load(Ordering::Acquire);
        // Everyone who missed queues here; only the first of them fetches.
        let wait = self.config.fetch_timeout * 2;
        let Ok(mut state) = tokio::time::timeout(wait, self.fetch.lock()).await else {
            return self.lookup(kid);
        };
        let changed = self.generation.load(Ordering::Acquire) != seen;
        if !changed && !self.cooling_down(&state) {
            // A failure is logged inside; the lookup below then answers from what we hold.
            let _ = self.fetch_locked(&mut state, FetchReason::UnknownKid).await;
        }
        drop(state);
        let found = self.lookup(kid);
        if matches!(found, Err(Rejection::UnknownKid)) {
            self.remember_not_found(kid);
        }
        found
    }

    fn cooling_down(&self, state: &FetchState) -> bool {
        let cooldown = chrono(self.config.unknown_kid_cooldown);
        state
            .last_attempt
            .is_some_and(|at| self.clock.now() - at < cooldown)
    }

    fn recently_not_found(&self, kid: &str) -> bool {
        let now = self.clock.now();
        let map = self.not_found.lock().unwrap_or_else(|p| p.into_inner());
        map.get(kid).is_some_and(|until| now < *until)
    }

    fn remember_not_found(&self, kid: &str) {
        let until = self.clock.now() + chrono(self.config.unknown_kid_cooldown);
        let mut map = self.not_found.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_NOT_FOUND {
            map.clear();
        }
        map.insert(kid.to_owned(), until);
    }

    /// Fetches now (waiting for a fetch already in flight instead of starting a second one).
    pub async fn refresh(&self) -> Result<(), FetchError> {
        let seen = self.generation.load(Ordering::Acquire);
        let mut state = self.fetch.lock().await;
        if self.generation.load(Ordering::Acquire) != seen && self.fresh(&self.current.load()) {
            return Ok(());
        }
        self.fetch_locked(&mut state, FetchReason::Scheduled).await
    }

    async fn fetch_locked(
        &self,
        state: &mut FetchState,
        reason: FetchReason,
    ) -> Result<(), FetchError> {
        let now = self.clock.now();
        state.last_attempt = Some(now);
        let result = match tokio::time::timeout(
            self.config.fetch_timeout,
            self.source.fetch(&state.validators, reason),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout),
        };
        let outcome = match result {
            Ok(Fetched::Keys {
                keys,
                validators,
                max_age,
                ..
            }) => {
                let keys = keys
                    .into_iter()
                    .map(|k| (k.kid.clone(), Arc::new(k)))
                    .collect();
                self.current.store(Arc::new(KeySet {
                    keys,
                    confirmed_at: Some(now),
                }));
                state.validators = validators;
                state.next_refresh = max_age;
                self.not_found
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
                Ok("updated")
            }
            Ok(Fetched::NotModified) => {
                let old = self.current.load_full();
                self.current.store(Arc::new(KeySet {
                    keys: old.keys.clone(),
                    confirmed_at: Some(now),
                }));
                Ok("not_modified")
            }
            Err(e) => Err(e),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok(label) => {
                self.observe(label);
                Ok(())
            }
            Err(e) => {
                self.observe(match e {
                    FetchError::Timeout => "timeout",
                    FetchError::Status(_) => "bad_status",
                    FetchError::Document(_) => "bad_document",
                    FetchError::Transport(_) => "error",
                });
                tracing::warn!(issuer = %self.issuer, source = %self.source.describe(), error = %e, "JWKS fetch failed; keeping the keys we have");
                Err(e)
            }
        }
    }

    fn observe(&self, result: &'static str) {
        if let Some(o) = &self.observer {
            o.fetched(&self.issuer, result);
        }
    }

    /// Whether the keys are loaded and usable, and how many there are.
    pub fn status(&self) -> JwksStatus {
        let set = self.current.load();
        JwksStatus {
            loaded: set.confirmed_at.is_some(),
            age_secs: set
                .confirmed_at
                .map(|at| (self.clock.now() - at).num_seconds()),
            keys: set.keys.len(),
            usable: self.fresh(&set),
        }
    }

    /// Loads the keys now and keeps them fresh until the cache is dropped: retries quickly
    /// (1 s doubling to 30 s) while no usable keys are held, then refreshes every
    /// `refresh_interval` (or the issuer's shorter `max-age`, at least a minute).
    pub fn spawn_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        self.refresher(None)
    }

    /// Like [`spawn_refresher`](Self::spawn_refresher) for keys whose first fetch was just
    /// made (`loaded`: whether it succeeded): the task starts with the wait that outcome calls
    /// for instead of fetching again at once.
    pub fn spawn_refresher_after(self: &Arc<Self>, loaded: bool) -> tokio::task::JoinHandle<()> {
        self.refresher(Some(loaded))
    }

    fn refresher(self: &Arc<Self>, mut first: Option<bool>) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                let Some(cache) = weak.upgrade() else { return };
                let ok = match first.take() {
                    Some(loaded) => loaded,
                    None => cache.refresh().await.is_ok(),
                };
                let delay = if ok || cache.status().usable {
                    backoff = Duration::from_secs(1);
                    let hinted = cache.fetch.lock().await.next_refresh;
                    hinted
                        .map(|h| h.clamp(Duration::from_secs(60), cache.config.refresh_interval))
                        .unwrap_or(cache.config.refresh_interval)
                } else {
                    let d = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    d
                };
                drop(cache);
                tokio::time::sleep(delay).await;
            }
        })
    }
}
