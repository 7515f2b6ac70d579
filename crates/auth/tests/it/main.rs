//! Integration tests of portcullis-auth against real issuers over HTTP on loopback ports.

mod builder_hooks;
mod claims_parsing;
mod controlled_issuer;
// The discovery server is an axum router.
#[cfg(feature = "axum")]
mod discovery;
#[cfg(feature = "axum")]
mod extractors;
mod introspection;
mod jwks_behaviour;
mod multi_issuer;
mod profile_auth0;
mod profile_cognito;
mod profile_entra;
mod profile_google;
mod profile_keycloak;
mod profile_okta;
mod profiles;
mod properties;
mod provider_rules;
mod verified_cache;
mod verified_cache_bounds;
