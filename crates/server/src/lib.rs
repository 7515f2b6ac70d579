//! The Portcullis server: configuration, start-up, the HTTP API and the CLI.
#![forbid(unsafe_code)]

pub mod access;
pub mod changes;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod console;
pub mod database;
pub mod dev_fault;
pub mod dev_idp;
pub mod dev_tokens;
pub mod flags;
pub mod http;
pub mod limits;
pub mod link_claims;
pub mod listen;
pub mod metrics;
pub mod mfa;
pub mod ops;
pub mod principal;
pub mod protected_resource;
pub mod rbac;
pub mod readiness;
pub mod revocation;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod verifier;
pub mod ws;

pub use config::Config;
pub use startup::{App, Mode, RunningApp, build, build_as};
