//! The signature algorithms Portcullis accepts. Only asymmetric ones exist here at all: an
//! HMAC or `none` token can never be verified, whatever a provider is configured with, which
//! rules out the HS256-with-the-public-key confusion by construction.

use aws_lc_rs::signature::{self, VerificationAlgorithm};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
/// The signature algorithms a verifier can accept; `none` and HMAC do not exist here.
pub enum Alg {
    #[serde(rename = "RS256")]
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    #[serde(rename = "ES256")]
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// Exact, case-sensitive match on the JOSE name (RFC 7518): `rs256` is not `RS256`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    /// The JOSE name (`RS256`, `ES256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub(crate) fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            // 2048 bits minimum: shorter RSA keys in a JWKS are refused.
            Self::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            // JWS carries ECDSA signatures as fixed-width r || s, not DER.
            Self::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_asymmetric_names_are_known() {
        assert_eq!(Alg::from_name("RS256"), Some(Alg::Rs256));
        assert_eq!(Alg::from_name("ES256"), Some(Alg::Es256));
        for other in [
            "none", "None", "NONE", "nOnE", "HS256", "rs256", "RS384", "PS256", "", "RS256 ",
        ] {
            assert_eq!(Alg::from_name(other), None, "{other:?}");
        }
    }
}
