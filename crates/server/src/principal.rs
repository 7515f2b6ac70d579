//! Who the caller is in Portcullis terms: their user row (provisioned on first sight) and their
//! memberships, cached in memory so that an authorized request costs no database round trip
//! for identity and role. Every change to a user's status or memberships drops their entry
//! (see [`PrincipalCache::forget_user`]); entries also expire after a minute as a safety net.

use crate::link_claims::LinkBasis;
use portcullis_auth::{Interned, Verified};
use portcullis_store::{MembershipSummary, NewUser, OrgId, Role, Store, StoreError, User, UserId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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
/// moka's bookkeeping per entry with a time-to-live, measured: 100 000 entries of a small key
/// and value added 374 bytes each to the process's RSS (docs/benchmarks.md, "Lean hot path").
const ENTRY_OVERHEAD: usize = 374;

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

#[derive(Debug, Clone)]
pub struct PrincipalCache {
    by_subject: moka::future::Cache<SubjectKey, Arc<Identity>>,
    /// Bumped by every invalidation. A load that overlapped one may have read what it removed
    /// (memberships read just before a removal committed), so its result is not kept.
    generation: Arc<AtomicU64>,
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
        let share = u32::try_from(max_bytes / MAX_ENTRIES).unwrap_or(u32::MAX);
        Self {
            by_subject: moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(move |k: &SubjectKey, v: &Arc<Identity>| weight(k, v).max(share))
                .time_to_live(Duration::from_secs(60))
                .support_invalidation_closures()
                .build(),
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
    /// while it was loading.
    async fn get_or_load(
        &self,
        key: impl Into<SubjectKey>,
        load: impl std::future::Future<Output = Result<Arc<Identity>, StoreError>>,
    ) -> Result<Arc<Identity>, Arc<StoreError>> {
        let key = key.into();
        let generation = self.generation.load(Ordering::Acquire);
        let identity = self.by_subject.try_get_with(key.clone(), load).await?;
        if self.generation.load(Ordering::Acquire) != generation {
            self.by_subject.invalidate(&key).await;
        }
        Ok(identity)
    }

    /// The cached identity of (issuer, sub), without loading it.
    pub async fn cached(&self, issuer: &str, sub: &str) -> Option<Arc<Identity>> {
        self.by_subject.get(&SubjectKey::from((issuer, sub))).await
    }

    /// The cached identity of a verified token's subject, without loading it or allocating.
    pub async fn cached_for(&self, token: &Verified) -> Option<Arc<Identity>> {
        let key = SubjectKey {
            issuer: token.claims.iss.clone(),
            sub: token.claims.sub.clone(),
        };
        self.by_subject.get(&key).await
    }

    /// Drops one user's entries, under every identity they signed in with: their memberships
    /// or status changed.
    pub async fn forget_user(&self, user: &User) {
        self.forget_subject(&user.issuer, &user.sub).await;
        let id = user.id;
        // Fails only when the cache was built without invalidation closures; then every entry
        // goes, which is never wrong, only slower.
        if self
            .by_subject
            .invalidate_entries_if(move |_, cached| cached.user.id == id)
            .is_err()
        {
            self.by_subject.invalidate_all();
        }
    }

    pub async fn forget_subject(&self, issuer: &str, sub: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.by_subject
            .invalidate(&SubjectKey::from((issuer, sub)))
            .await;
    }

    /// Drops every entry: an org was deleted or restored, which changes many users at once.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.by_subject.invalidate_all();
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

    /// The load read the memberships, then the user was removed from an org and the entry
    /// forgotten, then the load finished: what it read must not be served from the cache.
    #[tokio::test]
    async fn a_load_that_overlapped_an_invalidation_is_not_kept() {
        let cache = PrincipalCache::default();
        let key = ("https://issuer.test".to_owned(), "alice".to_owned());
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
        let fresh = identity("alice");
        let kept = Arc::clone(&fresh);
        cache
            .get_or_load(key.clone(), async move { Ok(kept) })
            .await
            .expect("loaded");
        let cached = cache.cached(&key.0, &key.1).await.expect("kept");
        assert!(Arc::ptr_eq(&cached, &fresh));
    }
}
