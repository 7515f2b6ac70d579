//! The faults page's CSRF defence: a random token in a `SameSite=Strict`, `HttpOnly` cookie,
//! echoed by every form (double submit). Any site could otherwise post to a dev server on
//! 127.0.0.1:8080 from a developer's browser.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const COOKIE_NAME: &str = "portcullis_faults_csrf";
const TOKEN_BYTES: usize = 32;

/// The token the browser already holds, if it is one of ours in shape.
pub fn from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| well_formed(v))
}

fn well_formed(token: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(token)
        .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES)
}

/// A fresh token; `None` only if the system's random source fails.
pub fn fresh() -> Option<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// The `Set-Cookie` value that hands `token` to the browser, for the faults page only.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE_NAME}={token}; Path=/dev-issuer/faults; HttpOnly; SameSite=Strict")
}

/// Whether the form's token is the cookie's.
pub fn matches(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (from_cookie(headers), submitted) {
        (Some(cookie), Some(form)) => {
            verify_slices_are_equal(cookie.as_bytes(), form.as_bytes()).is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(value).expect("header"));
        h
    }

    #[test]
    fn only_the_cookies_own_token_matches() {
        let token = fresh().expect("random");
        let headers = with_cookie(&format!("other=1; {COOKIE_NAME}={token}"));
        assert!(matches(&headers, Some(&token)));
        assert!(!matches(&headers, Some(&fresh().expect("random"))));
        assert!(!matches(&headers, None));
        assert!(!matches(&HeaderMap::new(), Some(&token)));
        assert!(!matches(
            &with_cookie(&format!("{COOKIE_NAME}=short")),
            Some("short")
        ));
    }
}
