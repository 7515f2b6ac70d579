//! One signing key: generation, PKCS#8 round trip, signing and its public JWK.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The JWS algorithm a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 on a 2048-bit key: what Cognito uses.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256, fixed-width `r || s` signatures as JWS requires.
    #[serde(rename = "ES256")]
    Es256,
}

impl Algorithm {
    /// The JWS `alg` name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

enum Inner {
    Rsa(rsa::KeyPair),
    Ec(EcdsaKeyPair),
}

/// A private signing key with its derived `kid`.
pub(crate) struct SigningKey {
    alg: Algorithm,
    kid: String,
    /// Unix seconds.
    created_at: i64,
    inner: Inner,
    /// Kept so the key can be written back to the key file without re-serialising.
    pkcs8: Vec<u8>,
    /// SubjectPublicKeyInfo DER; the `kid` is derived from it.
    spki: Vec<u8>,
}

// Hand-written so private key bytes can never reach a log line.
impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Why a stored key could not be loaded; the caller adds the file name.
#[derive(Debug)]
pub(crate) struct KeyLoadError(pub(crate) String);

impl SigningKey {
    pub(crate) fn generate(alg: Algorithm, created_at: i64) -> Result<Self, crate::Error> {
        let pkcs8 = match alg {
            Algorithm::Rs256 => rsa::KeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map(|der| der.as_ref().to_vec())
                .map_err(|_| crate::Error::Crypto("generate an RSA-2048 key"))?,
            Algorithm::Es256 => EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| crate::Error::Crypto("generate a P-256 key"))?,
        };
        Self::from_pkcs8(alg, pkcs8, created_at)
            .map_err(|_| crate::Error::Crypto("parse a key it just generated"))
    }

    pub(crate) fn from_pkcs8(
        alg: Algorithm,
        pkcs8: Vec<u8>,
        created_at: i64,
    ) -> Result<Self, KeyLoadError> {
        let (inner, spki) = match alg {
            Algorithm::Rs256 => {
                let kp = rsa::KeyPair::from_pkcs8(&pkcs8)
                    .map_err(|e| KeyLoadError(format!("not an RSA PKCS#8 key: {e}")))?;
                // Verifiers are told RS256 means at least 2048 bits; never serve less.
                if kp.public_modulus_len() < 256 {
                    return Err(KeyLoadError("RSA key is shorter than 2048 bits".into()));
                }
                let spki = kp
                    .public_key()
                    .as_der()
                    .map_err(|_| KeyLoadError("cannot encode the RSA public key".into()))?
                    .as_ref()
                    .to_vec();
                (Inner::Rsa(kp), spki)
            }
            Algorithm::Es256 => {
                let kp =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                        .map_err(|e| KeyLoadError(format!("not a P-256 PKCS#8 key: {e}")))?;
                let spki = kp
                    .public_key()
                    .as_der()
                    .map_err(|_| KeyLoadError("cannot encode the EC public key".into()))?
                    .as_ref()
                    .to_vec();
                (Inner::Ec(kp), spki)
            }
        };
        // Derived rather than random so the same key always gets the same kid,
        // whichever process loads it.
        let hash = digest::digest(&digest::SHA256, &spki);
        let kid = URL_SAFE_NO_PAD.encode(&hash.as_ref()[..12]);
        Ok(Self {
            alg,
            kid,
            created_at,
            inner,
            pkcs8,
            spki,
        })
    }

    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn created_at(&self) -> i64 {
        self.created_at
    }

    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub(crate) fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Signs `message` with this key's algorithm.
    ///
    /// # Panics
    /// Only if the crypto library fails to sign with a key it already accepted,
    /// which no caller could recover from.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Rsa(kp) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                #[allow(clippy::expect_used)]
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .expect("RSA signing with a validated key");
                sig
            }
            Inner::Ec(kp) =>
            {
                #[allow(clippy::expect_used)]
                kp.sign(&rng, message)
                    .expect("ECDSA signing with a validated key")
                    .as_ref()
                    .to_vec()
            }
        }
    }

    /// The public half as a JWK, with `use` and `alg` pinned so verifiers can
    /// refuse to use it for anything else.
    pub(crate) fn jwk(&self) -> Value {
        match &self.inner {
            Inner::Rsa(kp) => {
                let pk = kp.public_key();
                json!({
                    "kty": "RSA",
                    "kid": self.kid,
                    "use": "sig",
                    "alg": self.alg.as_str(),
                    "n": URL_SAFE_NO_PAD.encode(pk.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(pk.exponent().big_endian_without_leading_zero()),
                })
            }
            Inner::Ec(kp) => {
                // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = kp.public_key().as_ref();
                let (x, y) = point
                    .get(1..)
                    .map(|xy| xy.split_at(xy.len() / 2))
                    .unwrap_or_default();
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "kid": self.kid,
                    "use": "sig",
                    "alg": self.alg.as_str(),
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                })
            }
        }
    }
}
