//! Signature algorithms and the public keys an issuer publishes.

mod alg;
mod jwk;

pub use alg::Alg;
pub use jwk::{VerifyingKey, parse_jwks};
