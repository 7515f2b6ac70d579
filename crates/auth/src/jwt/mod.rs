//! Parsing of compact JWS tokens, strictly, before anything in them is trusted.

mod claims;
mod compact;
mod header;
mod json;
mod payload;

pub use claims::{Claims, MAX_SUB_BYTES, NumericDate};
pub use compact::{Compact, MAX_TOKEN_BYTES, split};
pub use header::{Header, parse_header};
pub use json::UniqueMap;
pub use payload::{Payload, Slot};
