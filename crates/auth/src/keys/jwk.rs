//! JSON Web Keys (RFC 7517) turned into parsed, ready-to-use verification keys.

use crate::keys::Alg;
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::fmt;

/// One usable public key. Parsing happens once, when the JWKS is loaded, not per token.
pub struct VerifyingKey {
    /// The key id.
    pub kid: String,
    /// The one algorithm this key verifies.
    pub alg: Alg,
    key: ParsedPublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Whether `signature` is this key's over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Why one key of a JWKS was skipped (logged; the other keys stay usable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkippedKey {
    #[error("key has no kid")]
    NoKid,
    #[error("key is not for signatures")]
    NotForSignatures,
    #[error("unsupported key type or algorithm")]
    Unsupported,
    #[error("key material is invalid")]
    Invalid,
}

/// The JWKS document itself was unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a JWKS document")]
pub struct BadJwks;

/// The keys of a JWKS that can be used, and the kid of each one that was skipped, with why.
pub type ParsedJwks = (Vec<VerifyingKey>, Vec<(Option<String>, SkippedKey)>);

/// Parses a JWKS document. Keys that cannot be used for RS256/ES256 signature verification are
/// skipped and reported; a key's own `alg` decides which algorithm it may verify, so a token
/// cannot pick another algorithm for it.
pub fn parse_jwks(body: &[u8]) -> Result<ParsedJwks, BadJwks> {
    let doc: Jwks = serde_json::from_slice(body).map_err(|_| BadJwks)?;
    let mut keys: Vec<VerifyingKey> = Vec::new();
    let mut skipped = Vec::new();
    for value in doc.keys {
        let kid = value.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
        match serde_json::from_value::<Jwk>(value)
            .map_err(|_| SkippedKey::Invalid)
            .and_then(key_from)
        {
            // The first key with a kid wins; a duplicate could otherwise shadow it.
            Ok(k) if keys.iter().any(|existing| existing.kid == k.kid) => {
                skipped.push((kid, SkippedKey::Invalid));
            }
            Ok(k) => keys.push(k),
            Err(why) => skipped.push((kid, why)),
        }
    }
    Ok((keys, skipped))
}

fn key_from(jwk: Jwk) -> Result<VerifyingKey, SkippedKey> {
    let kid = jwk.kid.filter(|k| !k.is_empty()).ok_or(SkippedKey::NoKid)?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err(SkippedKey::NotForSignatures);
    }
    if jwk
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|o| o == "verify"))
    {
        return Err(SkippedKey::NotForSignatures);
    }
    let b64 = |s: Option<&String>| {
        s.and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or(SkippedKey::Invalid)
    };
    let (alg, key) = match jwk.kty.as_str() {
        "RSA" => {
            let alg = declared(jwk.alg.as_deref(), Alg::Rs256)?;
            let n = b64(jwk.n.as_ref())?;
            let e = b64(jwk.e.as_ref())?;
            let parsed = RsaPublicKeyComponents {
                n: &n[..],
                e: &e[..],
            }
            .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(|_| SkippedKey::Invalid)?;
            if n.len() < 256 {
                return Err(SkippedKey::Invalid);
            }
            (alg, parsed)
        }
        "EC" => {
            let alg = declared(jwk.alg.as_deref(), Alg::Es256)?;
            if jwk.crv.as_deref() != Some("P-256") {
                return Err(SkippedKey::Unsupported);
            }
            let (x, y) = (b64(jwk.x.as_ref())?, b64(jwk.y.as_ref())?);
            if x.len() != 32 || y.len() != 32 {
                return Err(SkippedKey::Invalid);
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let parsed =
                ParsedPublicKey::new(alg.verification(), point).map_err(|_| SkippedKey::Invalid)?;
            (alg, parsed)
        }
        _ => return Err(SkippedKey::Unsupported),
    };
    Ok(VerifyingKey { kid, alg, key })
}

/// A key's `alg` member, if present, must name the one algorithm its type supports here.
fn declared(alg: Option<&str>, natural: Alg) -> Result<Alg, SkippedKey> {
    match alg {
        None => Ok(natural),
        Some(name) if Alg::from_name(name) == Some(natural) => Ok(natural),
        Some(_) => Err(SkippedKey::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let body = br#"{"keys":[
            {"kty":"oct","kid":"h","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"hs","alg":"HS256","n":"AQAB","e":"AQAB"}
        ]}"#;
        let (keys, skipped) = parse_jwks(body).expect("document parses");
        assert!(keys.is_empty());
        let why: Vec<SkippedKey> = skipped.into_iter().map(|(_, w)| w).collect();
        assert_eq!(
            why,
            [
                SkippedKey::Unsupported,
                SkippedKey::NotForSignatures,
                SkippedKey::Invalid,
                SkippedKey::NoKid,
                SkippedKey::Unsupported
            ]
        );
    }

    #[test]
    fn non_jwks_documents_are_refused() {
        assert!(parse_jwks(b"{}").is_err());
        assert!(parse_jwks(b"<html>").is_err());
        assert!(parse_jwks(br#"{"keys":{}}"#).is_err());
    }
}
