//! Server-provided DPoP nonces (RFC 9449, section 8), stateless: a nonce is a time window and
//! an HMAC of it, so every instance holding the same key accepts every other's nonces, and
//! nothing is stored. A nonce is good for the window it was issued in and the next one.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const LABEL: &[u8] = b"portcullis dpop nonce v1";
const MAC_BYTES: usize = 32;

/// The key server nonces are made and checked with: a nonce is an HMAC of its time window,
/// so every instance holding the key accepts every other's.
pub struct NonceKey {
    key: hmac::Key,
    /// Seconds per window.
    window_secs: i64,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKey")
            .field("window_secs", &self.window_secs)
            .finish_non_exhaustive()
    }
}

impl NonceKey {
    /// `secret` should be shared by every instance (the server derives it from the cluster
    /// secret) and at least 32 bytes; `window_secs` is at least 1.
    pub fn new(secret: &[u8], window_secs: u64) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            window_secs: i64::try_from(window_secs.max(1)).unwrap_or(i64::MAX),
        }
    }

    /// A key of this process only, for a single instance.
    pub fn random(window_secs: u64) -> Self {
        let mut secret = [0u8; 32];
        // An all-zero key only if the system RNG fails, which aws-lc treats as fatal anyway.
        let _ = aws_lc_rs::rand::fill(&mut secret);
        Self::new(&secret, window_secs)
    }

    fn window(&self, now: i64) -> i64 {
        now.div_euclid(self.window_secs)
    }

    fn message(window: i64) -> Vec<u8> {
        let mut m = LABEL.to_vec();
        m.extend_from_slice(&window.to_be_bytes());
        m
    }

    /// The nonce to hand out at `now` (Unix seconds).
    pub fn issue(&self, now: i64) -> String {
        let window = self.window(now);
        let mut raw = Vec::with_capacity(8 + MAC_BYTES);
        raw.extend_from_slice(&window.to_be_bytes());
        raw.extend_from_slice(hmac::sign(&self.key, &Self::message(window)).as_ref());
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Whether `nonce` was issued by a holder of this key in the current or the previous window.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(raw) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        if raw.len() != 8 + MAC_BYTES {
            return false;
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&raw[..8]);
        let window = i64::from_be_bytes(w);
        let current = self.window(now);
        if window != current && window != current - 1 {
            return false;
        }
        // `hmac::verify` compares in constant time.
        hmac::verify(&self.key, &Self::message(window), &raw[8..]).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_live_two_windows_and_need_the_key() {
        let key = NonceKey::new(&[7u8; 32], 60);
        let n = key.issue(1_000_000);
        assert!(key.accepts(&n, 1_000_000));
        assert!(key.accepts(&n, 1_000_000 + 60));
        assert!(!key.accepts(&n, 1_000_000 + 180));
        assert!(!key.accepts(&n, 1_000_000 - 120));
        let other = NonceKey::new(&[8u8; 32], 60);
        assert!(!other.accepts(&n, 1_000_000));
        assert!(!key.accepts("", 1_000_000));
        assert!(!key.accepts("not base64!", 1_000_000));
        let mut forged = n.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(!key.accepts(&String::from_utf8_lossy(&forged), 1_000_000));
    }
}
