//! End-to-end tests of the server, started in-process on port 0. One binary for all of them:
//! each extra test binary costs a link on a two-core machine. `support` is the harness; the
//! other modules are the areas under test.

mod cli;
mod cluster_faults;
mod cluster_trust;
mod connection_limit;
mod console;
mod dev_command;
mod dev_faults;
mod dev_idp;
mod dpop;
mod errors;
mod field_errors;
mod flags;
mod harness;
mod health;
mod identities;
mod introspection;
mod issuers;
mod limits;
mod links;
mod metrics;
mod mfa;
mod openapi;
mod ops;
mod pagination;
mod provisioning;
mod rbac_matrix;
mod readiness_recovery;
mod redis_tls;
mod resources_lifecycle;
mod sanitized_errors;
mod sessions;
mod shared_jwks;
mod shutdown;
mod slow_clients;
mod support;
mod token_rejections;
mod websocket;
