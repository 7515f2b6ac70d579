//! Reading one cookie from a request's `Cookie` headers, for the browser-facing pages.

use axum::http::{HeaderMap, header};

/// The value of cookie `name`: the first pair with exactly that name, across every `Cookie`
/// header.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
