//! Each instance's in-memory copy of the revocations in force, so that checking a request costs
//! no round trip. Loaded from the database at start-up and kept current by the cluster sync
//! (`crate::cluster::sync`), which alone decides when it may be trusted. The database stays the
//! source of truth.

use chrono::{DateTime, Utc};
use portcullis_store::{RevocationKind, RevokedToken, Store, StoreResult, UserId};
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct RevocationView {
    /// By kind, then id: a lookup borrows the token's id rather than building a key.
    tokens: RwLock<HashMap<RevocationKind, HashMap<String, DateTime<Utc>>>>,
    users: RwLock<HashMap<UserId, DateTime<Utc>>>,
    /// Whether `tokens` / `users` hold anything, set under their write lock after each change:
    /// while a map is empty, a check reads this flag instead of taking the lock, whose counter
    /// every request on every core would otherwise write.
    any_tokens: AtomicBool,
    any_users: AtomicBool,
}

impl RevocationView {
    /// Replaces the view with what the database holds now.
    pub async fn reload(&self, store: &dyn Store, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tokens: HashMap<RevocationKind, HashMap<String, DateTime<Utc>>> = HashMap::new();
        for r in store.active_revocations(now).await? {
            tokens
                .entry(r.kind)
                .or_default()
                .insert(r.value, r.expires_at);
        }
        let users: HashMap<_, _> = store.user_revocations().await?.into_iter().collect();
        {
            let mut map = self.tokens.write().unwrap_or_else(|p| p.into_inner());
            *map = tokens;
            self.any_tokens.store(any_token(&map), Ordering::Release);
        }
        let mut map = self.users.write().unwrap_or_else(|p| p.into_inner());
        *map = users;
        self.any_users.store(!map.is_empty(), Ordering::Release);
        Ok(())
    }

    pub fn add_token(&self, token: &RevokedToken) {
        let mut map = self.tokens.write().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry(token.kind)
            .or_default()
            .entry(token.value.clone())
            .or_insert(token.expires_at);
        if token.expires_at > *entry {
            *entry = token.expires_at;
        }
        self.any_tokens.store(true, Ordering::Release);
    }

    pub fn add_user_cutoff(&self, user: UserId, before: DateTime<Utc>) {
        let mut map = self.users.write().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(user).or_insert(before);
        if before > *entry {
            *entry = before;
        }
        self.any_users.store(true, Ordering::Release);
    }

    pub fn token_revoked(&self, ids: &[(RevocationKind, &str)], now: DateTime<Utc>) -> bool {
        if !self.any_tokens.load(Ordering::Acquire) {
            return false;
        }
        let map = self.tokens.read().unwrap_or_else(|p| p.into_inner());
        ids.iter().any(|(kind, value)| {
            map.get(kind)
                .and_then(|m| m.get(*value))
                .is_some_and(|until| *until > now)
        })
    }

    pub fn user_cutoff(&self, user: UserId) -> Option<DateTime<Utc>> {
        if !self.any_users.load(Ordering::Acquire) {
            return None;
        }
        self.users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
            .copied()
    }

    /// Drops revocations whose tokens have expired anyway, so the view does not grow forever.
    pub fn prune(&self, now: DateTime<Utc>) {
        let mut map = self.tokens.write().unwrap_or_else(|p| p.into_inner());
        map.values_mut()
            .for_each(|m| m.retain(|_, until| *until > now));
        self.any_tokens.store(any_token(&map), Ordering::Release);
    }
}

fn any_token(map: &HashMap<RevocationKind, HashMap<String, DateTime<Utc>>>) -> bool {
    map.values().any(|m| !m.is_empty())
}
