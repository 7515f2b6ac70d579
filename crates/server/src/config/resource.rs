//! `resource`: this API's identifier in RFC 9728 metadata and the public base URL DPoP proofs
//! name in `htu`. Unset, it is `http://{listen address}`, right only when clients reach the
//! server directly.

use std::net::SocketAddr;
use url::Url;

/// An absolute `http` or `https` URL without credentials, query or fragment (RFC 9728 section
/// 1.2); a trailing slash is dropped so that request paths can follow it.
pub fn parse(text: &str) -> Result<Url, &'static str> {
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|_| "must be an absolute http(s) URL, such as https://api.example.com")?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an absolute http(s) URL, such as https://api.example.com");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment");
    }
    Ok(url)
}

/// The configured resource, or the one named after the bound API address.
pub fn effective(configured: Option<&str>, bound: SocketAddr) -> Result<Url, &'static str> {
    match configured {
        Some(text) => parse(text),
        None => parse(&format!("http://{bound}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_plain_http_urls() {
        assert_eq!(
            parse("https://api.example.com/").map(|u| u.to_string()),
            Ok("https://api.example.com/".to_owned())
        );
        assert!(parse("https://api.example.com/v1").is_ok());
        for bad in [
            "api.example.com",
            "ftp://api.example.com",
            "https://u:p@api.example.com",
            "https://api.example.com/?x=1",
            "https://api.example.com/#f",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let bound: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        assert_eq!(
            effective(None, bound).map(|u| u.to_string()),
            Ok("http://127.0.0.1:8080/".to_owned())
        );
    }
}
