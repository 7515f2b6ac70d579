//! Authorization codes: single use, short-lived, bound to the client, the redirect URI, the
//! PKCE challenge and the nonce of the request they answer. A code presented a second time
//! also revokes what its first redemption produced (RFC 6749 §4.1.2).

use super::signin::SignIn;
use std::collections::HashMap;
use std::sync::Mutex;

/// What a code stands for, checked again at the token endpoint.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    pub sign_in: SignIn,
}

#[derive(Debug)]
struct Entry {
    grant: Grant,
    issued_ms: i64,
    redeemed: bool,
    /// The refresh family (`origin_jti`) the first redemption started.
    family: Option<String>,
}

#[derive(Debug)]
pub enum Redeemed {
    Fresh(Box<Grant>),
    /// Unknown, or past its lifetime.
    Invalid,
    /// Presented before; `family` is what the first redemption produced, to revoke.
    Reused {
        family: Option<String>,
    },
}

/// Redeemed codes are remembered this long, so a late replay is still caught.
const REMEMBER_MS: i64 = 10 * 60 * 1000;

#[derive(Debug)]
pub struct Codes {
    ttl_ms: i64,
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl Codes {
    pub fn new(ttl_secs: u64) -> Self {
        Self {
            ttl_ms: i64::try_from(ttl_secs).unwrap_or(600).saturating_mul(1000),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new code for `grant`; `None` if no random value could be drawn.
    pub fn issue(&self, grant: Grant, now_ms: i64) -> Option<String> {
        let code = super::random::token()?;
        let mut entries = self.lock();
        entries.retain(|_, e| now_ms - e.issued_ms < REMEMBER_MS.max(self.ttl_ms));
        entries.insert(
            super::random::digest(&code),
            Entry {
                grant,
                issued_ms: now_ms,
                redeemed: false,
                family: None,
            },
        );
        Some(code)
    }

    /// Consumes the code: whatever the token endpoint decides next, it cannot be used again.
    pub fn redeem(&self, code: &str, now_ms: i64) -> Redeemed {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(&super::random::digest(code)) else {
            return Redeemed::Invalid;
        };
        if entry.redeemed {
            return Redeemed::Reused {
                family: entry.family.take(),
            };
        }
        entry.redeemed = true;
        if now_ms - entry.issued_ms >= self.ttl_ms {
            return Redeemed::Invalid;
        }
        Redeemed::Fresh(Box::new(entry.grant.clone()))
    }

    /// Records the refresh family a redemption started.
    pub fn produced(&self, code: &str, family: &str) {
        if let Some(entry) = self.lock().get_mut(&super::random::digest(code)) {
            entry.family = Some(family.to_owned());
        }
    }
}
