//! Who the caller is and whether they may go on: the checks every front door (the HTTP
//! extractors, the WebSocket upgrade and in-band refresh) runs on a verified token, once, in one
//! order.

pub mod flags;
pub mod mfa;
mod principal;

pub use principal::{Freshness, NotAdmitted, resolve_principal};
