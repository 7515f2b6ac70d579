//! The immutable set of keys the issuer publishes at one moment.
//!
//! A rotation builds a new [`KeySet`] and swaps it in whole, so a JWKS
//! response, its `ETag` and the key used to sign never disagree.

use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::keys::SigningKey;

#[derive(Debug, Clone)]
pub(crate) struct StoredKey {
    pub(crate) key: Arc<SigningKey>,
    /// When the key stopped signing (Unix seconds); `None` for the current key
    /// and for keys published ahead that never signed yet.
    pub(crate) retired_at: Option<i64>,
}

impl StoredKey {
    pub(crate) fn new(key: SigningKey, retired_at: Option<i64>) -> Self {
        Self {
            key: Arc::new(key),
            retired_at,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct KeySet {
    /// Signs every new token.
    pub(crate) current: StoredKey,
    /// Still published so tokens they signed keep verifying; newest first.
    pub(crate) previous: Vec<StoredKey>,
    /// Rendered once per key set rather than per request.
    jwks: Value,
    jwks_body: String,
    etag: String,
}

impl KeySet {
    pub(crate) fn new(current: StoredKey, previous: Vec<StoredKey>) -> Self {
        let keys: Vec<Value> = std::iter::once(&current)
            .chain(previous.iter())
            .map(|k| k.key.jwk())
            .collect();
        let jwks = json!({ "keys": keys });
        let jwks_body = jwks.to_string();
        let hash = digest::digest(&digest::SHA256, jwks_body.as_bytes());
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]));
        Self {
            current,
            previous,
            jwks,
            jwks_body,
            etag,
        }
    }

    pub(crate) fn jwks(&self) -> &Value {
        &self.jwks
    }

    pub(crate) fn jwks_body(&self) -> &str {
        &self.jwks_body
    }

    /// A strong entity tag (quoted) derived from the JWKS body.
    pub(crate) fn etag(&self) -> &str {
        &self.etag
    }

    pub(crate) fn kids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .map(|k| k.key.kid())
    }

    /// The key that signs now moves to `previous`; `next` takes its place.
    pub(crate) fn rotated(&self, next: SigningKey, now: i64) -> Self {
        let mut old = self.current.clone();
        old.retired_at = Some(now);
        let mut previous = Vec::with_capacity(self.previous.len() + 1);
        previous.push(old);
        previous.extend(self.previous.iter().cloned());
        Self::new(StoredKey::new(next, None), previous)
    }

    /// `key` published beside the current one, not signing.
    pub(crate) fn with_published(&self, key: SigningKey) -> Self {
        let mut previous = Vec::with_capacity(self.previous.len() + 1);
        previous.push(StoredKey::new(key, None));
        previous.extend(self.previous.iter().cloned());
        Self::new(self.current.clone(), previous)
    }

    /// The newest key published ahead becomes the signing key; `None` when there is none.
    pub(crate) fn promoted(&self, now: i64) -> Option<Self> {
        let at = self.previous.iter().position(|k| k.retired_at.is_none())?;
        let next = self.previous.get(at)?.clone();
        let mut old = self.current.clone();
        old.retired_at = Some(now);
        let mut previous = vec![old];
        previous.extend(
            self.previous
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, k)| k.clone()),
        );
        Some(Self::new(next, previous))
    }

    /// Drops previous keys for which `drop` is true.
    pub(crate) fn without(&self, mut drop: impl FnMut(&StoredKey) -> bool) -> Self {
        let previous = self.previous.iter().filter(|k| !drop(k)).cloned().collect();
        Self::new(self.current.clone(), previous)
    }
}
