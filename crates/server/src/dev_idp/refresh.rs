//! Refresh tokens: opaque random values, kept as SHA-256 digests in memory (a restart of
//! `portcullis dev` forgets them). Each sign-in starts a family whose id is the `origin_jti`
//! of every access token it yields; each use rotates the token, and presenting a used one
//! revokes the whole family.

use super::signin::SignIn;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone)]
pub struct Family {
    /// The `origin_jti` of the family's access and ID tokens.
    pub id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub sign_in: SignIn,
    pub expires_ms: i64,
    pub revoked: bool,
}

#[derive(Debug)]
struct TokenEntry {
    family: String,
    used: bool,
}

#[derive(Debug, Default)]
struct State {
    families: HashMap<String, Family>,
    tokens: HashMap<[u8; 32], TokenEntry>,
}

#[derive(Debug)]
pub enum Rotated {
    Fresh {
        family: Box<Family>,
        token: String,
    },
    /// Unknown, expired, revoked, or issued to another client.
    Invalid,
    /// A token already rotated: the family is now revoked here and must be at the server.
    Reused {
        family: String,
    },
    /// No random value could be drawn.
    Failed,
}

#[derive(Debug, Default)]
pub struct Refresh {
    state: Mutex<State>,
}

impl Refresh {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a family; its first refresh token.
    pub fn start(&self, family: Family, now_ms: i64) -> Option<String> {
        let token = super::random::token()?;
        let mut state = self.lock();
        let expired: Vec<String> = state
            .families
            .values()
            .filter(|f| f.expires_ms <= now_ms)
            .map(|f| f.id.clone())
            .collect();
        for id in &expired {
            state.families.remove(id);
        }
        state.tokens.retain(|_, t| !expired.contains(&t.family));
        state.tokens.insert(
            super::random::digest(&token),
            TokenEntry {
                family: family.id.clone(),
                used: false,
            },
        );
        state.families.insert(family.id.clone(), family);
        Some(token)
    }

    pub fn rotate(&self, token: &str, client_id: &str, now_ms: i64) -> Rotated {
        let mut state = self.lock();
        let key = super::random::digest(token);
        let Some(entry) = state.tokens.get(&key) else {
            return Rotated::Invalid;
        };
        let (family_id, used) = (entry.family.clone(), entry.used);
        let Some(family) = state.families.get_mut(&family_id) else {
            return Rotated::Invalid;
        };
        if family.client_id != client_id || family.revoked || family.expires_ms <= now_ms {
            return Rotated::Invalid;
        }
        if used {
            family.revoked = true;
            return Rotated::Reused { family: family_id };
        }
        let family = family.clone();
        let Some(next) = super::random::token() else {
            return Rotated::Failed;
        };
        if let Some(entry) = state.tokens.get_mut(&key) {
            entry.used = true;
        }
        state.tokens.insert(
            super::random::digest(&next),
            TokenEntry {
                family: family_id,
                used: false,
            },
        );
        Rotated::Fresh {
            family: Box::new(family),
            token: next,
        }
    }

    /// The family and client of a refresh token, used or not.
    pub fn owner(&self, token: &str) -> Option<(String, String)> {
        let state = self.lock();
        let entry = state.tokens.get(&super::random::digest(token))?;
        let family = state.families.get(&entry.family)?;
        Some((family.id.clone(), family.client_id.clone()))
    }

    /// Marks the family revoked; later refreshes fail. Whether it was known.
    pub fn revoke(&self, family: &str) -> bool {
        match self.lock().families.get_mut(family) {
            Some(f) => {
                f.revoked = true;
                true
            }
            None => false,
        }
    }
}
