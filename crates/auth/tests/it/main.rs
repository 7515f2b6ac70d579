//! Integration tests of portcullis-auth against real issuers over HTTP on loopback ports.

mod claims_parsing;
mod controlled_issuer;
mod jwks_behaviour;
mod properties;
mod provider_rules;
