//! Console sessions: the tokens of each signed-in browser, kept on the server behind a random
//! opaque id, and the logins in flight (state, nonce, PKCE verifier) until the issuer calls back.
//!
//! Both live in this instance's memory. The browser's cookie holds the session id only; the map
//! is keyed by the SHA-256 of that id, so neither a log line nor a heap dump of the keys gives a
//! usable cookie. Sizes are capped so that a flood of login attempts cannot grow memory.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a login may take between the redirect to the issuer and its callback.
pub const PENDING_TTL_SECS: i64 = 600;
/// Logins in flight at once; past it, new logins are refused until some complete or expire.
pub const MAX_PENDING: usize = 10_000;
/// Signed-in browsers at once.
pub const MAX_SESSIONS: usize = 10_000;

/// 32 random bytes, base64url: session ids, CSRF tokens, `state`, `nonce`, PKCE verifiers.
pub fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the map is keyed by: the hash of the secret the browser holds.
pub fn key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether two secrets are equal, in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// The PKCE S256 challenge of a verifier (RFC 7636 section 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A login between the redirect to the issuer and the callback.
#[derive(Debug, Clone)]
pub struct Pending {
    pub code_verifier: String,
    pub nonce: String,
    /// The hash of the login cookie set on this browser: the callback must come from the browser
    /// that started the login (no login CSRF).
    pub browser: [u8; 32],
    /// A console path (always starting with `/console`) to land on after sign-in.
    pub return_to: String,
    pub started_at: i64,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// Unix seconds: the access token's `exp`. Past it the session is refreshed or ends.
    pub expires_at: i64,
    /// The form token of this session.
    pub csrf: String,
}

#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    pending: Mutex<HashMap<[u8; 32], Pending>>,
}

/// The store is full.
#[derive(Debug, Clone, Copy)]
pub struct Full;

impl Sessions {
    /// Remembers a login under its `state`; the caller has checked `state` is fresh random.
    pub fn start_login(&self, state: &str, pending: Pending, now: i64) -> Result<(), Full> {
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_PENDING {
            map.retain(|_, p| now - p.started_at < PENDING_TTL_SECS);
            if map.len() >= MAX_PENDING {
                return Err(Full);
            }
        }
        map.insert(key(state), pending);
        Ok(())
    }

    /// Takes the login of `state` (once: a replayed callback finds nothing) if it is fresh and
    /// was started by the browser holding `browser_cookie`.
    pub fn finish_login(&self, state: &str, browser_cookie: &str, now: i64) -> Option<Pending> {
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let pending = map.remove(&key(state))?;
        let fresh = now - pending.started_at < PENDING_TTL_SECS && now >= pending.started_at;
        let same_browser = verify_slices_are_equal(&pending.browser, &key(browser_cookie)).is_ok();
        (fresh && same_browser).then_some(pending)
    }

    /// Stores a new session and returns its id (the cookie value).
    pub fn create(&self, session: Session, now: i64) -> Result<String, Full> {
        let id = random_token().ok_or(Full)?;
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires_at > now || s.refresh_token.is_some());
            if map.len() >= MAX_SESSIONS {
                return Err(Full);
            }
        }
        map.insert(key(&id), session);
        Ok(id)
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        let map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&key(id)).cloned()
    }

    /// Replaces the tokens of a session after a refresh (the CSRF token stays).
    pub fn replace(&self, id: &str, session: Session) {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.get_mut(&key(id)) {
            *s = session;
        }
    }

    /// Ends a session; what it held, if it existed.
    pub fn end(&self, id: &str) -> Option<Session> {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&key(id))
    }

    pub fn len(&self) -> usize {
        self.sessions.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(browser: &str, at: i64) -> Pending {
        Pending {
            code_verifier: "v".into(),
            nonce: "n".into(),
            browser: key(browser),
            return_to: "/console".into(),
            started_at: at,
        }
    }

    #[test]
    fn a_login_finishes_once_in_the_browser_that_started_it() {
        let s = Sessions::default();
        s.start_login("st", pending("b1", 100), 100).ok();
        assert!(s.finish_login("st", "other", 101).is_none());
        // The failed attempt consumed it: no second try with the right cookie either.
        assert!(s.finish_login("st", "b1", 101).is_none());
        s.start_login("st2", pending("b1", 100), 100).ok();
        assert!(s.finish_login("st2", "b1", 101).is_some());
        assert!(s.finish_login("st2", "b1", 101).is_none());
    }

    #[test]
    fn a_stale_login_is_refused() {
        let s = Sessions::default();
        s.start_login("st", pending("b", 0), 0).ok();
        assert!(s.finish_login("st", "b", PENDING_TTL_SECS).is_none());
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
