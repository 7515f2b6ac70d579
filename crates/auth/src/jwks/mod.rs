//! Per-issuer key sets: fetched from the issuer, cached, refreshed, and served lock-free.

mod cache;
mod source;

pub use cache::{JwksCache, JwksConfig, JwksObserver, JwksStatus};
pub use source::{
    DiscoveredJwks, FetchError, FetchReason, Fetched, HttpJwks, KeySource, StaticJwks, Validators,
    discover_jwks_uri, http_client,
};
