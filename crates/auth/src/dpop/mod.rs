//! DPoP (RFC 9449): access tokens bound to a key the client holds, proven on each request by a
//! signed proof in the `DPoP` header.
//!
//! [`Dpop`] checks one request: the `Authorization` scheme against the token's binding
//! (`cnf.jkt`) and the issuer's [`DpopMode`], then the proof ([`proof`]): `typ`, an allowed
//! asymmetric `alg`, a public `jwk` only, the signature with that key, `htm`, `htu`, `ath`,
//! `iat` within the window, the key's thumbprint equal to `cnf.jkt`, the server nonce when
//! nonces are on ([`nonce`]), and last the `jti` seen for the first time ([`replay`]).

mod binding;
pub mod jwk;
mod mode;
pub mod nonce;
pub mod proof;
pub mod replay;

pub use binding::{Dpop, DpopConfig, RequestProofs, Scheme, confirmation, without_dpop};
pub use jwk::ProofAlg;
pub use mode::DpopMode;
pub use nonce::NonceKey;
pub use replay::{MemoryReplay, ReplayCache, ReplayUnavailable};
