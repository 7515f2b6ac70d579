//! The metrics contract: every series of `crate::metrics` with its labels, produced over HTTP and
//! scraped from the private metrics listener; `/metrics` is not on the public listener; and the
//! `serve` access log carries request id, route, status, latency, user and rejection reason,
//! and never a token.
//!
//! In-process apps share one metrics registry (the recorder is process-global), so assertions
//! use labels only this test produces (its own issuer URL) or check presence and increases.

mod access_log;
mod series;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The token with one signature byte flipped: well-formed, signed by nobody.
fn bad_signature(token: &str) -> String {
    let (rest, sig) = token.rsplit_once('.').expect("three parts");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("base64url");
    bytes[10] ^= 0x55;
    format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes))
}
