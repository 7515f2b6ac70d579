//! The public HTTP API: routing, cross-cutting layers, errors.

pub mod challenge;
pub mod change;
pub mod cookie;
pub mod cursor;
pub mod dev;
pub mod error;
pub mod extract;
pub mod guard;
pub mod html;
pub mod input;
pub mod openapi;
pub mod page;
pub mod problem;
pub mod rate_limit;
pub mod router;
pub mod routes;
pub mod stack;

pub use error::ApiError;
pub use router::{HttpSettings, MAX_BODY_BYTES, router, with_common_layers};
