//! The embedded development issuer.
//!
//! A real OpenID issuer over HTTP (JWKS with `ETag`, discovery) whose tokens
//! look like AWS Cognito's, or like another provider's with a [`Shape`], for
//! `portcullis dev`, `portcullis token` and the verification tests. Keys are RSA-2048 (RS256) by default, ES256 on request;
//! all cryptography is aws-lc-rs.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use portcullis_dev_issuer::{LoopbackIssuer, TokenSpec};
//! let idp = LoopbackIssuer::start().await?;
//! let token = idp.issuer.mint_access(&TokenSpec::new("alice").groups(["portcullis-admin"]));
//! # let _ = token; Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod controlled;
mod discovery;
mod error;
mod faults;
mod http;
mod issuer;
mod keys;
mod keyset;
mod mint;
pub mod pkce;
mod shape;
mod store;
pub mod totp;

#[cfg(test)]
mod tests;

pub use controlled::{ControlledIssuer, Mode};
pub use error::Error;
pub use faults::{FaultEvent, Faults, JwksOutage, TokenFault, UnknownTokenFault, WRONG_AUDIENCE};
pub use http::{DISCOVERY_PATH, JWKS_PATH, LoopbackIssuer, jwks_router, router, serve_on_loopback};
pub use issuer::DevIssuer;
pub use keys::Algorithm;
pub use mint::{
    DEFAULT_CLIENT_ID, DEFAULT_SUB, DEFAULT_TTL, TokenPair, TokenSpec, parse_claim_arg,
};
pub use shape::{DEFAULT_AUDIENCE, DEFAULT_TENANT_ID, Shape, UnknownShape};

/// Name of the key file inside the data directory given to [`DevIssuer::open`].
pub const KEY_FILE_NAME: &str = store::FILE_NAME;
