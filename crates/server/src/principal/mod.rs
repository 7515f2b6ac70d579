//! Who the caller is in Portcullis terms: their user row (provisioned on first sight) and their
//! memberships, cached in memory so that an authorized request costs no database round trip
//! for identity and role. Every change to a user's status or memberships drops their entry
//! (see [`PrincipalCache::forget_user`]); entries also expire after a minute as a safety net.

use crate::link_claims::LinkBasis;
use portcullis_auth::{Interned, Verified};
use portcullis_store::{MembershipSummary, NewUser, OrgId, Role, Store, StoreError, User, UserId};
mod subjects;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use subjects::SubjectMap;

/// How long an identity stays cached: the safety net under the invalidations.
const TIME_TO_LIVE: Duration = Duration::from_secs(60);

/// What the cache holds for one (issuer, sub).
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    pub memberships: Vec<MembershipSummary>,
    /// The claims the memberships org links made were computed from.
    pub links: LinkBasis,
    /// The `GET /v1/me` body of this identity, rendered on its first request: nothing in it
    /// changes while the identity is cached (a change to the user or the memberships drops the
    /// entry), and rendering it (the ids, the timestamp) was most of that route's own cost.
    pub me_body: OnceLock<RenderedMe>,
}

/// A response body rendered for the token subject (issuer, sub) it names.
#[derive(Debug, Clone)]
pub struct RenderedMe {
    pub issuer: Box<str>,
    pub sub: Box<str>,
    pub body: axum::body::Bytes,
}

impl Identity {
    pub fn new(user: User, memberships: Vec<MembershipSummary>, links: LinkBasis) -> Self {
        Self {
            user,
            memberships,
            links,
            me_body: OnceLock::new(),
        }
    }

    /// The body rendered for (`issuer`, `sub`), rendering it with `render` on first use. A body
    /// rendered for another subject (never, as the cache is keyed by the subject) is not reused.
    pub fn me_body(
        &self,
        issuer: &str,
        sub: &str,
        render: impl FnOnce() -> Option<axum::body::Bytes>,
    ) -> Option<axum::body::Bytes> {
        if let Some(r) = self.me_body.get() {
            if *r.issuer == *issuer && *r.sub == *sub {
                return Some(r.body.clone());
            }
            return render();
        }
        let body = render()?;
        // A concurrent first request may have set it meanwhile: both rendered the same bytes.
        let _ = self.me_body.set(RenderedMe {
            issuer: issuer.into(),
            sub: sub.into(),
            body: body.clone(),
        });
        Some(body)
    }

    pub fn role_in(&self, org: OrgId) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.org_id == org)
            .map(|m| m.role)
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub identity: Arc<Identity>,
    pub token: Arc<Verified>,
    /// Member of the configured IdP admin group.
    pub platform_admin: bool,
}

impl Principal {
    pub fn user_id(&self) -> UserId {
        self.identity.user.id
    }

    pub fn role_in(&self, org: OrgId) -> Option<Role> {
        self.identity.role_in(org)
    }
}

/// One upsert (provisioning the user on first sight) and one membership query.
async fn load(
    store: &Arc<dyn Store>,
    token: &Verified,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Arc<Identity>, StoreError> {
    let c = &token.claims;
    let new = NewUser {
        issuer: c.iss.to_string(),
        sub: c.sub.to_string(),
        // Profile claims over the store's bounds are kept as absent: they describe the user, and
        // a verified token must not fail for them.
        username: c
            .username
            .as_deref()
            .map(str::to_owned)
            .filter(|u| portcullis_store::validate::username(u).is_ok()),
        email: c
            .email
            .as_deref()
            .map(str::to_owned)
            .filter(|e| portcullis_store::validate::email(e).is_ok()),
        seen: true,
    };
    let upserted = store.upsert_user(&new, now).await?;
    crate::metrics::user_upserted(&upserted, now, true);
    let user = upserted.user;
    let names = store.link_claim_names(&c.iss).await?;
    let memberships = store.memberships_of_user(user.id).await?;
    Ok(Arc::new(Identity::new(
        user,
        memberships,
        LinkBasis::of(names, &c.raw),
    )))
}

/// The principal cache's key: the caller's (issuer, subject). Both strings are shared with the
/// verified token, so building a key for a lookup allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubjectKey {
    pub issuer: Interned,
    pub sub: Interned,
}

impl From<(String, String)> for SubjectKey {
    fn from((issuer, sub): (String, String)) -> Self {
        Self {
            issuer: issuer.into(),
            sub: sub.into(),
        }
    }
}

impl From<(&str, &str)> for SubjectKey {
    fn from((issuer, sub): (&str, &str)) -> Self {
        Self {
            issuer: issuer.into(),
            sub: sub.into(),
        }
    }
}

/// 8 MiB: about 20 000 identities with a few memberships each.
pub const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Identities at most, whatever the budget.
const MAX_ENTRIES: u64 = 100_000;
/// The map's own share of an entry (`subjects.rs`): its 72-byte slot (the key's two `Arc`s,
/// the value's, the expiry, the weight, the sequence number) over the table's load factor (7/8
/// at most, two thirds on average after growth) with its control byte, and its 16-byte place in
/// the insertion order, which may be up to half empty.
const ENTRY_OVERHEAD: usize = 144;

/// What the `GET /v1/me` body an identity keeps once rendered costs, about: weighed when the
/// entry is inserted, before the body exists. Its JSON keys and punctuation, the ids and
/// timestamp (about 160 bytes), the strings it repeats, 48 bytes per membership besides the
/// org's name, and its own allocations.
fn me_body_bytes(key: &SubjectKey, identity: &Identity) -> usize {
    let u = &identity.user;
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let strings = key.issuer.len() + key.sub.len();
    160 + 2 * strings
        + opt(&u.username)
        + opt(&u.email)
        + identity
            .memberships
            .iter()
            .map(|m| 48 + 36 + m.org_name.len())
            .sum::<usize>()
        + std::mem::size_of::<RenderedMe>()
        + 64
}

/// What one identity costs the cache, in bytes.
fn weight(key: &SubjectKey, identity: &Identity) -> u32 {
    let u = &identity.user;
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
    let bytes = 16
        + std::mem::size_of::<Identity>()
        + std::mem::size_of::<SubjectKey>()
        + key.issuer.heap_bytes()
        + key.sub.heap_bytes()
        + u.issuer.capacity()
        + u.sub.capacity()
        + opt(&u.username)
        + opt(&u.email)
        + identity.memberships.capacity() * std::mem::size_of::<MembershipSummary>()
        + identity
            .memberships
            .iter()
            .map(|m| m.org_name.capacity())
            .sum::<usize>()
        + identity.links.heap_bytes()
        + me_body_bytes(key, identity)
        + ENTRY_OVERHEAD;
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// A load in progress, which concurrent misses for the same subject wait on.
type Loading = Arc<tokio::sync::OnceCell<Result<Arc<Identity>, Arc<StoreError>>>>;

#[derive(Clone)]
pub struct PrincipalCache {
    by_subject: Arc<SubjectMap<Arc<Identity>>>,
    loading: Arc<Mutex<HashMap<SubjectKey, Loading>>>,
    /// The least an entry weighs: its share of the budget at the entry limit.
    share: u32,
    /// Bumped by every invalidation. A load that overlapped one may have read what it removed
    /// (memberships read just before a removal committed), so its result is not kept.
    generation: Arc<AtomicU64>,
}

impl std::fmt::Debug for PrincipalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalCache").finish_non_exhaustive()
    }
}

impl Default for PrincipalCache {
    fn default() -> Self {
        Self::with_budget(DEFAULT_MAX_BYTES)
    }
}

impl PrincipalCache {
    /// A cache holding at most `max_bytes` of identities (by [`weight`]), and at most
    /// 100 000 of them: each weighs at least its share of the budget.
    pub fn with_budget(max_bytes: u64) -> Self {
        Self {
            by_subject: Arc::new(SubjectMap::new(TIME_TO_LIVE, max_bytes, MAX_ENTRIES)),
            loading: Arc::default(),
            share: u32::try_from(max_bytes / MAX_ENTRIES).unwrap_or(u32::MAX),
            generation: Arc::default(),
        }
    }

    /// The caller's identity, from the cache or, on a miss, from one upsert (provisioning the
    /// user on first sight) and one membership query. Concurrent misses for the same subject
    /// share one load.
    ///
    /// With `trust_cache == false` (this instance may have missed invalidations: the event bus
    /// is out of sync) the cache is bypassed and the identity read from the database.
    pub async fn identity(
        &self,
        store: &Arc<dyn Store>,
        token: &Verified,
        now: chrono::DateTime<chrono::Utc>,
        trust_cache: bool,
    ) -> Result<Arc<Identity>, Arc<StoreError>> {
        let c = &token.claims;
        if !trust_cache {
            return load(store, token, now).await.map_err(Arc::new);
        }
        let key = SubjectKey {
            issuer: c.iss.clone(),
            sub: c.sub.clone(),
        };
        self.get_or_load(key, load(store, token, now)).await
    }

    /// The cached entry, or the result of `load`, which is kept only if no invalidation ran
    /// while it was loading. Concurrent misses for one subject wait on the first one's load; if
    /// that caller goes away mid-load, the next waiter loads instead.
    async fn get_or_load(
        &self,
        key: impl Into<SubjectKey>,
        load: impl std::future::Future<Output = Result<Arc<Identity>, StoreError>>,
    ) -> Result<Arc<Identity>, Arc<StoreError>> {
        let key = key.into();
        if let Some(hit) = self.by_subject.get(&key.issuer, &key.sub) {
            return Ok(hit);
        }
        let loading = Arc::clone(self.loads().entry(key.clone()).or_default());
        let result = loading
            .get_or_init(|| async {
                let generation = self.generation.load(Ordering::Acquire);
                let loaded = load.await.map_err(Arc::new);
                if let Ok(identity) = &loaded
                    && self.generation.load(Ordering::Acquire) == generation
                {
                    let w = weight(&key, identity).max(self.share);
                    self.by_subject.insert(key.clone(), Arc::clone(identity), w);
                }
                loaded
            })
            .await
            .clone();
        let mut loads = self.loads();
        if loads.get(&key).is_some_and(|l| Arc::ptr_eq(l, &loading)) {
            loads.remove(&key);
        }
        result
    }

    fn loads(&self) -> std::sync::MutexGuard<'_, HashMap<SubjectKey, Loading>> {
        self.loading.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached identity of (issuer, sub), without loading it.
    pub async fn cached(&self, issuer: &str, sub: &str) -> Option<Arc<Identity>> {
        self.by_subject.get(issuer, sub)
    }

    /// The cached identity of a verified token's subject, without loading it or allocating.
    pub async fn cached_for(&self, token: &Verified) -> Option<Arc<Identity>> {
        self.by_subject.get(&token.claims.iss, &token.claims.sub)
    }

    /// Drops one user's entries, under every identity they signed in with: their memberships
    /// or status changed.
    pub async fn forget_user(&self, user: &User) {
        self.forget_subject(&user.issuer, &user.sub).await;
        // Loads of the user's other identities may be in flight too: new requests start afresh.
        self.loads().clear();
        let id = user.id;
        self.by_subject.remove_where(|cached| cached.user.id == id);
    }

    pub async fn forget_subject(&self, issuer: &str, sub: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        // A request arriving from now on must not join a load that began before this.
        self.loads().remove(&SubjectKey::from((issuer, sub)));
        self.by_subject.remove(issuer, sub);
    }

    /// Drops every entry: an org was deleted or restored, which changes many users at once.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.loads().clear();
        self.by_subject.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(sub: &str) -> Arc<Identity> {
        Arc::new(Identity::new(
            User {
                id: UserId::new(),
                issuer: "https://issuer.test".into(),
                sub: sub.into(),
                username: None,
                email: None,
                disabled_at: None,
                created_at: chrono::Utc::now(),
                last_seen_at: None,
            },
            Vec::new(),
            LinkBasis::default(),
        ))
    }

    fn alice() -> (String, String) {
        ("https://issuer.test".to_owned(), "alice".to_owned())
    }

    /// Loads a new identity of `key` through the cache: that identity, and the cache's answer.
    async fn load_new(
        cache: &PrincipalCache,
        key: &(String, String),
    ) -> (Arc<Identity>, Arc<Identity>) {
        let fresh = identity(&key.1);
        let kept = Arc::clone(&fresh);
        let got = cache
            .get_or_load(key.clone(), async move { Ok(kept) })
            .await
            .expect("loaded");
        (fresh, got)
    }

    /// Concurrent misses for one subject run one load; the others wait for its answer.
    #[tokio::test]
    async fn concurrent_misses_share_one_load() {
        let cache = PrincipalCache::default();
        let loads = Arc::new(AtomicU64::new(0));
        let (go, wait) = tokio::sync::watch::channel(false);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                let loads = Arc::clone(&loads);
                let mut wait = wait.clone();
                tokio::spawn(async move {
                    let load = async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        let _ = wait.wait_for(|go| *go).await;
                        Ok(identity("alice"))
                    };
                    cache.get_or_load(alice(), load).await
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let _ = go.send(true);
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            ids.insert(t.await.expect("task").expect("loaded").user.id);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one load");
        assert_eq!(ids.len(), 1, "one answer for all");
    }

    /// A failed load is the answer of the requests that waited on it, and is not cached: the
    /// next request loads again.
    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let cache = PrincipalCache::default();
        let key = alice();
        let failed = cache
            .get_or_load(key.clone(), async { Err(StoreError::unavailable("down")) })
            .await;
        assert!(failed.is_err());
        assert!(cache.cached(&key.0, &key.1).await.is_none());
        let (fresh, got) = load_new(&cache, &key).await;
        assert!(Arc::ptr_eq(&got, &fresh));
    }

    /// The request that ran the load went away mid-load: a waiting request loads instead.
    #[tokio::test]
    async fn a_waiter_takes_over_a_load_whose_caller_went_away() {
        let cache = PrincipalCache::default();
        let key = alice();
        let first = {
            let cache = cache.clone();
            let key = key.clone();
            tokio::spawn(async move {
                cache
                    .get_or_load(
                        key,
                        std::future::pending::<Result<Arc<Identity>, StoreError>>(),
                    )
                    .await
            })
        };
        tokio::task::yield_now().await;
        let fresh = identity("alice");
        let kept = Arc::clone(&fresh);
        let second = {
            let cache = cache.clone();
            let key = key.clone();
            tokio::spawn(async move { cache.get_or_load(key, async move { Ok(kept) }).await })
        };
        tokio::task::yield_now().await;
        first.abort();
        let got = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the waiter did not hang")
            .expect("task")
            .expect("loaded");
        assert!(Arc::ptr_eq(&got, &fresh));
    }

    /// After an invalidation, a request does not join a load that began before it.
    #[tokio::test]
    async fn an_invalidation_detaches_the_loads_in_flight() {
        let cache = PrincipalCache::default();
        let key = alice();
        let (finish, wait) = tokio::sync::oneshot::channel::<()>();
        let stale = identity("alice");
        let old = {
            let cache = cache.clone();
            let key = key.clone();
            let stale = Arc::clone(&stale);
            tokio::spawn(async move {
                cache
                    .get_or_load(key, async move {
                        let _ = wait.await;
                        Ok(stale)
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        cache.forget_subject(&key.0, &key.1).await;
        let (fresh, got) = load_new(&cache, &key).await;
        assert!(Arc::ptr_eq(&got, &fresh), "a load of its own");
        let _ = finish.send(());
        let old = old.await.expect("task").expect("loaded");
        assert!(Arc::ptr_eq(&old, &stale));
        let cached = cache.cached(&key.0, &key.1).await.expect("kept");
        assert!(Arc::ptr_eq(&cached, &fresh), "the stale load is not kept");
    }

    /// The load read the memberships, then the user was removed from an org and the entry
    /// forgotten, then the load finished: what it read must not be served from the cache.
    #[tokio::test]
    async fn a_load_that_overlapped_an_invalidation_is_not_kept() {
        let cache = PrincipalCache::default();
        let key = alice();
        let (loaded, finish) = tokio::sync::oneshot::channel::<()>();
        let stale = identity("alice");
        let load = {
            let stale = Arc::clone(&stale);
            async move {
                let _ = finish.await;
                Ok(stale)
            }
        };
        let loading = {
            let cache = cache.clone();
            let key = key.clone();
            tokio::spawn(async move { cache.get_or_load(key, load).await })
        };
        tokio::task::yield_now().await;
        cache.forget_subject(&key.0, &key.1).await;
        let _ = loaded.send(());
        let got = loading.await.expect("task").expect("loaded");
        assert!(
            Arc::ptr_eq(&got, &stale),
            "the caller still gets its answer"
        );
        assert!(
            cache.cached(&key.0, &key.1).await.is_none(),
            "but the stale entry is not kept"
        );

        // Without an invalidation in between, the load is kept.
        let (fresh, _) = load_new(&cache, &key).await;
        let cached = cache.cached(&key.0, &key.1).await.expect("kept");
        assert!(Arc::ptr_eq(&cached, &fresh));
    }
}
