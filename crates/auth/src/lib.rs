//! `portcullis-auth`: access-token verification for AWS Cognito and OpenID Connect issuers.
//!
//! The [`Verifier`] runs every check in a fixed order, cheapest first: size and shape, header
//! (`alg` allow-list, `kid`, forbidden members), the unverified `iss` to choose a
//! [`Provider`](provider::Provider), the key by `kid` from a [`JwksCache`](jwks::JwksCache),
//! the signature, then the claims (`exp`, `nbf`, `iat`, lifetime, `token_use`/`client_id` or
//! `aud`), then the application's [`TokenCheck`](hooks::TokenCheck) (revocation, user status).
//! Every refusal is a [`Rejection`] whose code is for logs and metrics only.
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
pub mod bearer;
pub mod builder;
pub mod clock;
pub mod hooks;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod policy;
pub mod provider;
pub mod rejection;
pub mod verifier;

pub use rejection::Rejection;
pub use verifier::{CacheUse, Verified, Verifier, VerifierError};
