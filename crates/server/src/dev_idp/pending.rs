//! Authorization requests between the sign-in page and the choice posted back, and the
//! browser sessions `/logout` ends.
//!
//! A pending request is bound to a random cookie of the browser that loaded the page
//! (`SameSite=Strict`): the page's form carries the request id, the browser the cookie, and
//! both must match. Another site can neither read the id nor make the browser send the cookie
//! with a cross-site POST (no login CSRF).

use std::collections::HashMap;
use std::sync::Mutex;

/// What the client asked for, validated.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub challenge: String,
    pub scopes: Vec<String>,
    /// `acr_values` asked for MFA: the value to put in `acr` once satisfied.
    pub mfa: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub request: AuthRequest,
    binding: String,
    created_ms: i64,
    /// The persona whose TOTP code is awaited.
    pub totp_for: Option<String>,
    pub failures: u32,
}

/// A request left on the page longer than this must be started again.
const PENDING_MS: i64 = 15 * 60 * 1000;
/// Wrong TOTP codes allowed per request.
pub const MAX_FAILURES: u32 = 5;

#[derive(Debug, Default)]
pub struct Pendings {
    entries: Mutex<HashMap<String, Pending>>,
}

impl Pendings {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Its id, for the form.
    pub fn add(&self, request: AuthRequest, binding: &str, now_ms: i64) -> Option<String> {
        let id = super::random::token()?;
        let mut entries = self.lock();
        entries.retain(|_, p| now_ms - p.created_ms < PENDING_MS);
        entries.insert(
            id.clone(),
            Pending {
                request,
                binding: binding.to_owned(),
                created_ms: now_ms,
                totp_for: None,
                failures: 0,
            },
        );
        Some(id)
    }

    /// The request, if `binding` is the cookie it was issued with and it is not too old.
    pub fn get(&self, id: &str, binding: &str, now_ms: i64) -> Option<Pending> {
        let entries = self.lock();
        let p = entries.get(id)?;
        (super::random::constant_eq(&p.binding, binding) && now_ms - p.created_ms < PENDING_MS)
            .then(|| p.clone())
    }

    pub fn await_totp(&self, id: &str, sub: &str) {
        if let Some(p) = self.lock().get_mut(id) {
            p.totp_for = Some(sub.to_owned());
        }
    }

    /// Counts a wrong code; the request is dropped at [`MAX_FAILURES`]. The new count.
    pub fn fail(&self, id: &str) -> u32 {
        let mut entries = self.lock();
        let failures = entries.get_mut(id).map_or(MAX_FAILURES, |p| {
            p.failures += 1;
            p.failures
        });
        if failures >= MAX_FAILURES {
            entries.remove(id);
        }
        failures
    }

    pub fn take(&self, id: &str) -> Option<Pending> {
        self.lock().remove(id)
    }
}

/// Browser sessions: the refresh families signed in through one browser.
#[derive(Debug, Default)]
pub struct Browsers {
    sessions: Mutex<HashMap<[u8; 32], Vec<String>>>,
}

impl Browsers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Vec<String>>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers the session of cookie value `id` (kept if known).
    pub fn open(&self, id: &str) {
        self.lock().entry(super::random::digest(id)).or_default();
    }

    pub fn add_family(&self, id: &str, family: &str) {
        if let Some(f) = self.lock().get_mut(&super::random::digest(id)) {
            f.push(family.to_owned());
        }
    }

    /// Ends the session; the families to revoke.
    pub fn end(&self, id: &str) -> Vec<String> {
        self.lock()
            .remove(&super::random::digest(id))
            .unwrap_or_default()
    }
}
