//! The public key a DPoP proof carries in its header (`jwk`), its algorithm, and its RFC 7638
//! SHA-256 thumbprint, which is what an access token's `cnf.jkt` names.

use crate::rejection::Rejection;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Asymmetric algorithms a proof may be signed with. There is no symmetric or `none` member:
/// a proof must be verifiable with the public key it carries, which a MAC never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProofAlg {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// Ed25519.
    EdDsa,
}

impl ProofAlg {
    /// Every algorithm this library can verify a proof with, in the order challenges list them.
    pub const ALL: [ProofAlg; 4] = [
        ProofAlg::Es256,
        ProofAlg::Rs256,
        ProofAlg::Ps256,
        ProofAlg::EdDsa,
    ];

    /// Exact, case-sensitive JOSE name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::EdDsa => "EdDSA",
        }
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Self::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            Self::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Self::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            Self::EdDsa => &signature::ED25519,
        }
    }
}

/// Members that only a private (or symmetric) key has. A client that puts them in a proof has
/// published its private key; the proof is refused rather than trusted.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A proof's public key, parsed for `alg`, with its thumbprint.
pub struct ProofKey {
    key: ParsedPublicKey,
    /// base64url(SHA-256(canonical JWK)), RFC 7638.
    pub thumbprint: String,
}

impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl ProofKey {
    /// The key of `jwk`, usable only with `alg`: the key type must be the algorithm's
    /// (EC P-256 for ES256, RSA of 2048 bits or more for RS256 and PS256, OKP Ed25519 for
    /// EdDSA), and no private member may be present.
    pub fn parse(jwk: &Map<String, Value>, alg: ProofAlg) -> Result<Self, Rejection> {
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(Rejection::DpopProofInvalid);
        }
        let text = |name: &str| match jwk.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
            _ => Err(Rejection::DpopProofInvalid),
        };
        let bytes = |name: &str| {
            URL_SAFE_NO_PAD
                .decode(text(name)?)
                .map_err(|_| Rejection::DpopProofInvalid)
        };
        let kty = text("kty")?;
        // RFC 7638: the required members only, in lexicographic order, no whitespace. Every
        // value is a base64url or name string, which needs no JSON escaping once checked.
        let (key, canonical) = match (alg, kty) {
            (ProofAlg::Es256, "EC") => {
                if text("crv")? != "P-256" {
                    return Err(Rejection::DpopProofInvalid);
                }
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(Rejection::DpopProofInvalid);
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let key = ParsedPublicKey::new(alg.verification(), point)
                    .map_err(|_| Rejection::DpopProofInvalid)?;
                let canonical = format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    text("x")?,
                    text("y")?
                );
                (key, canonical)
            }
            (ProofAlg::Rs256 | ProofAlg::Ps256, "RSA") => {
                let (n, e) = (bytes("n")?, bytes("e")?);
                if n.len() < 256 || n.first() == Some(&0) {
                    return Err(Rejection::DpopProofInvalid);
                }
                let key = RsaPublicKeyComponents {
                    n: &n[..],
                    e: &e[..],
                }
                .to_parsed_public_key(if alg == ProofAlg::Ps256 {
                    &signature::RSA_PSS_2048_8192_SHA256
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                })
                .map_err(|_| Rejection::DpopProofInvalid)?;
                let canonical = format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    text("e")?,
                    text("n")?
                );
                (key, canonical)
            }
            (ProofAlg::EdDsa, "OKP") => {
                if text("crv")? != "Ed25519" {
                    return Err(Rejection::DpopProofInvalid);
                }
                let x = bytes("x")?;
                if x.len() != 32 {
                    return Err(Rejection::DpopProofInvalid);
                }
                let key = ParsedPublicKey::new(alg.verification(), x)
                    .map_err(|_| Rejection::DpopProofInvalid)?;
                let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, text("x")?);
                (key, canonical)
            }
            _ => return Err(Rejection::DpopProofInvalid),
        };
        Ok(Self {
            key,
            thumbprint: thumbprint_of(&canonical),
        })
    }

    /// Whether `signature` over `message` was made with this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

/// base64url(SHA-256(text)), the form of `jkt` and `ath`.
pub fn sha256_b64(text: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

fn thumbprint_of(canonical: &str) -> String {
    sha256_b64(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // The RSA key of RFC 7638, section 3.1, and the thumbprint given there.
        let jwk = obj(serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }));
        let key = ProofKey::parse(&jwk, ProofAlg::Rs256).expect("valid key");
        assert_eq!(
            key.thumbprint,
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn private_members_and_mismatched_types_are_refused() {
        let ec = serde_json::json!({"kty":"EC","crv":"P-256",
            "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(ProofKey::parse(&obj(ec.clone()), ProofAlg::Es256).is_ok());
        for member in PRIVATE_MEMBERS {
            let mut with = obj(ec.clone());
            with.insert(member.into(), Value::String("AAAA".into()));
            assert_eq!(
                ProofKey::parse(&with, ProofAlg::Es256).map(|_| ()),
                Err(Rejection::DpopProofInvalid),
                "{member}"
            );
        }
        assert!(ProofKey::parse(&obj(ec.clone()), ProofAlg::Rs256).is_err());
        assert!(ProofKey::parse(&obj(ec), ProofAlg::EdDsa).is_err());
        let oct = serde_json::json!({"kty":"oct","k":"c2VjcmV0"});
        assert!(ProofKey::parse(&obj(oct), ProofAlg::Es256).is_err());
    }

    #[test]
    fn only_asymmetric_names_are_known() {
        for name in ["none", "HS256", "es256", "ES384", ""] {
            assert_eq!(ProofAlg::from_name(name), None, "{name}");
        }
        assert_eq!(ProofAlg::from_name("PS256"), Some(ProofAlg::Ps256));
    }
}
