//! The provider's two cookies: the binding of a pending authorization request to the browser
//! that loaded the sign-in page, and the browser session `/logout` ends.

use axum::http::HeaderMap;

/// Sent only with the provider's own form posts (`SameSite=Strict`, authorize path only).
pub const BINDING: &str = "pcdev_authz";
/// Sent with top-level navigations from the client's site to `/logout` (`SameSite=Lax`).
pub const SESSION: &str = "pcdev_session";

/// The value of cookie `name`, if it looks like one of ours (a base64url token).
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    crate::http::cookie::value(headers, name).filter(|v| {
        v.len() == 43
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

pub fn set(name: &str, value: &str, path: &str, same_site: &str) -> String {
    format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}")
}

pub fn clear(name: &str, path: &str) -> String {
    format!("{name}=; Path={path}; HttpOnly; Max-Age=0")
}
