//! Integration tests of portcullis-auth against real issuers over HTTP on loopback ports.

mod controlled_issuer;
mod jwks_behaviour;
mod properties;
mod provider_rules;
