//! Whether an issuer's tokens may, or must, be bound to a key with DPoP.

use serde::{Deserialize, Serialize};

/// An issuer's DPoP setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DpopMode {
    /// The `DPoP` scheme is refused; bearer tokens only (a DPoP-bound token is still refused
    /// as a bearer token: it was issued to be used with a proof).
    #[default]
    Off,
    /// Bound tokens with proofs, and plain bearer tokens.
    Allowed,
    /// Bound tokens with proofs only.
    Required,
}

impl DpopMode {
    /// The setting's name in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Allowed => "allowed",
            Self::Required => "required",
        }
    }
}
