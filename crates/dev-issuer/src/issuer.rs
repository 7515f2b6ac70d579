//! [`DevIssuer`]: the key ring, its persistence and rotation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::Error;
use crate::faults::Faults;
use crate::keys::{Algorithm, SigningKey};
use crate::keyset::{KeySet, StoredKey};
use crate::store;

/// An embedded, Cognito-shaped OpenID issuer for development and tests.
///
/// Cheap to share behind an [`Arc`]: reads (minting, JWKS) are lock-free;
/// rotation and retirement take a mutex so two of them never interleave
/// their writes to the key file.
#[derive(Debug)]
pub struct DevIssuer {
    issuer_url: String,
    keys: ArcSwap<KeySet>,
    /// `None` for an ephemeral issuer.
    key_file: Option<PathBuf>,
    write_lock: Mutex<()>,
    faults: Faults,
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl DevIssuer {
    /// Loads the keys kept in `dir/dev-issuer-keys.json`, generating an RS256
    /// key and writing the file (mode 0600, directory created if missing) the
    /// first time, so tokens minted by one run keep verifying after a restart.
    ///
    /// `issuer_url` is the exact `iss` value; when the router is nested under a
    /// prefix the URL must include it (`http://127.0.0.1:8080/dev-issuer`).
    ///
    /// # Errors
    /// [`Error::CorruptKeyFile`] when the file exists but cannot be used;
    /// [`Error::Io`] when it cannot be read or written.
    pub fn open(dir: &Path, issuer_url: String) -> Result<Self, Error> {
        let path = store::path_in(dir);
        let keys = match store::load(&path)? {
            Some(keys) => keys,
            None => {
                let fresh = KeySet::new(
                    StoredKey::new(SigningKey::generate(Algorithm::Rs256, unix_now())?, None),
                    Vec::new(),
                );
                if store::create(&path, &fresh)? {
                    tracing::info!(path = %path.display(), kid = fresh.current.key.kid(), "generated a new dev issuer signing key");
                    fresh
                } else {
                    // Another process won the race to create it; use its key.
                    store::load(&path)?.ok_or_else(|| {
                        Error::corrupt(&path, "vanished right after another process created it")
                    })?
                }
            }
        };
        Ok(Self::from_parts(issuer_url, keys, Some(path)))
    }

    /// An in-memory issuer with a fresh RS256 key, for tests.
    ///
    /// # Panics
    /// If the crypto library cannot generate a key (a broken RNG); use
    /// [`DevIssuer::try_ephemeral`] to get an error instead.
    #[must_use]
    pub fn ephemeral(issuer_url: impl Into<String>) -> Self {
        #[allow(clippy::expect_used)]
        Self::try_ephemeral(issuer_url, Algorithm::Rs256).expect("generate a dev issuer key")
    }

    /// An in-memory issuer whose first key uses `alg`.
    ///
    /// # Errors
    /// [`Error::Crypto`] if key generation fails.
    pub fn try_ephemeral(issuer_url: impl Into<String>, alg: Algorithm) -> Result<Self, Error> {
        let keys = KeySet::new(
            StoredKey::new(SigningKey::generate(alg, unix_now())?, None),
            Vec::new(),
        );
        Ok(Self::from_parts(issuer_url.into(), keys, None))
    }

    fn from_parts(issuer_url: String, keys: KeySet, key_file: Option<PathBuf>) -> Self {
        Self {
            issuer_url,
            keys: ArcSwap::from_pointee(keys),
            key_file,
            write_lock: Mutex::new(()),
            faults: Faults::default(),
        }
    }

    /// The `iss` value of every token this issuer mints.
    #[must_use]
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// Where the JWKS is served: `{issuer}/.well-known/jwks.json`.
    #[must_use]
    pub fn jwks_uri(&self) -> String {
        format!(
            "{}/.well-known/jwks.json",
            self.issuer_url.trim_end_matches('/')
        )
    }

    /// The faults switched on for this issuer (JWKS outages, broken tokens), and their log.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The key file, or `None` for an ephemeral issuer.
    #[must_use]
    pub fn key_file(&self) -> Option<&Path> {
        self.key_file.as_deref()
    }

    pub(crate) fn snapshot(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// The `kid` of the key that signs new tokens.
    #[must_use]
    pub fn current_kid(&self) -> String {
        self.keys.load().current.key.kid().to_owned()
    }

    /// The algorithm of the key that signs new tokens.
    #[must_use]
    pub fn current_alg(&self) -> Algorithm {
        self.keys.load().current.key.alg()
    }

    /// Every published `kid`, current first.
    #[must_use]
    pub fn kids(&self) -> Vec<String> {
        self.keys.load().kids().map(str::to_owned).collect()
    }

    /// The JWKS document: `{"keys":[{"kty","kid","use":"sig","alg",...}]}`, current key first.
    #[must_use]
    pub fn jwks(&self) -> Value {
        self.keys.load().jwks().clone()
    }

    /// The current public key as SubjectPublicKeyInfo DER.
    ///
    /// For key-confusion tests (HS256 "signed" with the RSA public key as the secret).
    #[must_use]
    pub fn current_public_key_der(&self) -> Vec<u8> {
        self.keys.load().current.key.spki_der().to_vec()
    }

    /// The current public key as a PEM `PUBLIC KEY` block, the form
    /// key-confusion attacks feed to HMAC.
    #[must_use]
    pub fn current_public_key_pem(&self) -> String {
        let b64 = STANDARD.encode(self.current_public_key_der());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// Signs `header` and `claims` exactly as given with the current key.
    ///
    /// Nothing is added or checked: the header's `alg` and `kid` may lie, which
    /// is the point for attack tests.
    #[must_use]
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        self.sign_parts(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// Like [`DevIssuer::sign_raw`] but with raw header and payload bytes, for
    /// tokens whose parts are not valid JSON or carry duplicate keys.
    #[must_use]
    pub fn sign_parts(&self, header: &[u8], payload: &[u8]) -> String {
        let keys = self.keys.load();
        sign_with(&keys.current.key, header, payload)
    }

    /// Makes a new RS256 key the signing key. The previous key stays in the JWKS
    /// (so tokens it signed keep verifying) until a `retire_*` call removes it.
    /// Returns the new `kid`.
    ///
    /// # Errors
    /// Key generation or, for a persistent issuer, writing the key file. On
    /// error nothing changes.
    pub fn rotate(&self) -> Result<String, Error> {
        self.rotate_to(Algorithm::Rs256)
    }

    /// Like [`DevIssuer::rotate`] with a key of algorithm `alg`.
    ///
    /// # Errors
    /// As [`DevIssuer::rotate`].
    pub fn rotate_to(&self, alg: Algorithm) -> Result<String, Error> {
        let now = unix_now();
        let next = SigningKey::generate(alg, now)?;
        let kid = next.kid().to_owned();
        self.update(|keys| keys.rotated(next, now))?;
        tracing::info!(kid, %alg, "dev issuer rotated its signing key");
        Ok(kid)
    }

    /// Rotates the way a careful issuer does: to the key published ahead with
    /// [`DevIssuer::publish_next_key`] if there is one (verifiers already hold it), else to a
    /// new RS256 key. Returns the new signing `kid`.
    ///
    /// # Errors
    /// As [`DevIssuer::rotate`].
    pub fn rotate_to_published(&self) -> Result<String, Error> {
        let now = unix_now();
        let mut promoted = None;
        self.update(|keys| match keys.promoted(now) {
            Some(next) => {
                promoted = Some(next.current.key.kid().to_owned());
                next
            }
            None => keys.clone(),
        })?;
        match promoted {
            Some(kid) => {
                tracing::info!(kid, "dev issuer rotated to its published next key");
                Ok(kid)
            }
            None => self.rotate(),
        }
    }

    /// Publishes a second key in the JWKS without signing with it yet, as issuers do ahead
    /// of a rotation. Returns its `kid`.
    ///
    /// # Errors
    /// As [`DevIssuer::rotate`].
    pub fn publish_next_key(&self, alg: Algorithm) -> Result<String, Error> {
        let key = SigningKey::generate(alg, unix_now())?;
        let kid = key.kid().to_owned();
        self.update(|keys| keys.with_published(key))?;
        tracing::info!(kid, %alg, "dev issuer published a second key");
        Ok(kid)
    }

    /// Removes every key but the current one from the JWKS; tokens they signed
    /// stop verifying once verifiers refetch. Returns how many were removed.
    ///
    /// # Errors
    /// Writing the key file of a persistent issuer.
    pub fn retire_old_keys(&self) -> Result<usize, Error> {
        self.retire_where(|_| true)
    }

    /// Removes keys that stopped signing more than `overlap` ago, leaving
    /// younger ones published. Returns how many were removed.
    ///
    /// # Errors
    /// Writing the key file of a persistent issuer.
    pub fn retire_keys_older_than(&self, overlap: Duration) -> Result<usize, Error> {
        let overlap = i64::try_from(overlap.as_secs()).unwrap_or(i64::MAX);
        let cutoff = unix_now().saturating_sub(overlap);
        // A key published ahead (never signed) is not old: it is the next one.
        self.retire_where(|k| k.retired_at.is_some_and(|t| t <= cutoff))
    }

    fn retire_where(&self, drop: impl Fn(&StoredKey) -> bool) -> Result<usize, Error> {
        let mut removed = 0;
        self.update(|keys| {
            let next = keys.without(&drop);
            removed = keys.previous.len() - next.previous.len();
            next
        })?;
        Ok(removed)
    }

    /// Applies `change` under the write lock, persists, then publishes, so the
    /// file never lags behind what verifiers can see.
    fn update(&self, change: impl FnOnce(&KeySet) -> KeySet) -> Result<(), Error> {
        // A poisoned lock only means another rotation panicked; the key set
        // itself is immutable and still consistent.
        let _guard = self
            .write_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = change(&self.keys.load());
        if let Some(path) = &self.key_file {
            store::replace(path, &next)?;
        }
        self.keys.store(Arc::new(next));
        Ok(())
    }
}

pub(crate) fn sign_with(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let sig = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    token
}
