//! `portcullis-auth`: access-token verification for AWS Cognito and OpenID Connect issuers.
//!
//! The [`Verifier`] runs every check in a fixed order, cheapest first: size and shape, header
//! (`alg` allow-list, `kid`, forbidden members), the unverified `iss` to choose a
//! [`Provider`](provider::Provider), the key by `kid` from a [`JwksCache`](jwks::JwksCache),
//! the signature, then the claims (`exp`, `nbf`, `iat`, lifetime, `token_use`/`client_id` or
//! `aud`). A verification is cached by the token's digest and reused only while `exp` holds and
//! the signing key is still published. Every refusal is a [`Rejection`] whose code is for logs
//! and metrics only.
//!
//! What the application decides about a valid token (revocation, the user's status, roles) is
//! left to it: it runs on every request, cache hit or not, and drops cached verifications it
//! has learned are stale with [`Verifier::forget_where`].
//!
//! Opaque tokens of one issuer can be checked at its introspection endpoint instead
//! ([`introspection`], RFC 7662), and [`layer::AuthLayer`] (feature `tower`) puts the
//! verification in front of any tower service, axum router or tonic server alike.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "axum")]
pub mod bearer;
pub mod builder;
pub mod clock;
pub mod dpop;
pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod keys;
#[cfg(feature = "tower")]
pub mod layer;
pub mod policy;
pub mod provider;
pub mod rejection;
pub mod verified;
pub mod verifier;

pub use rejection::Rejection;
pub use verified::{Interned, SharedClaims, TokenId, VerifiedClaims};
pub use verifier::{CacheUse, Verified, Verifier, VerifierError};

/// The examples of the crate's README, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
