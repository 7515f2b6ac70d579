//! The rule for URLs keys are fetched from (an issuer, and the `jwks_uri` its discovery document
//! names): https, or plain http to a loopback host when the operator allows it, and never a
//! user name or password.

use url::{Host, Url};

/// Why a URL keys would be fetched from is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Not an absolute URL with a host.
    NotAUrl,
    /// Carries a user name or password (`user:pw@host`).
    Userinfo,
    /// Neither https nor http.
    NotHttps,
    /// Plain http to a host that is not loopback, or while plain http is not allowed.
    PlainHttp,
}

/// Checks `url` with the same parser reqwest uses to decide where to connect, so the host
/// judged here is the host the request goes to. A userinfo part is refused outright: no issuer
/// needs one, and in hand-written text it is what makes `http://localhost:1@evil.example/`
/// look like a loopback address.
pub fn check_key_url(url: &str, allow_http: bool) -> Result<(), UrlRefusal> {
    let parsed = Url::parse(url).map_err(|_| UrlRefusal::NotAUrl)?;
    let Some(host) = parsed.host() else {
        return Err(UrlRefusal::NotAUrl);
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefusal::Userinfo);
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_http && is_loopback(&host) => Ok(()),
        "http" => Err(UrlRefusal::PlainHttp),
        _ => Err(UrlRefusal::NotHttps),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        // The parser has already lower-cased the name and turned numeric forms such as
        // `127.1` into an address.
        Host::Domain(name) => *name == "localhost",
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// `http://` issuers are for local development only: honoured for loopback hosts, and only when
/// the operator opts in.
pub fn is_loopback_http(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http"
            && u.username().is_empty()
            && u.password().is_none()
            && u.host().is_some_and(|h| is_loopback(&h))
    })
}

/// Checks an issuer URL from configuration: https, or loopback http when allowed; never with a
/// user name or password.
pub fn check_issuer_url(url: &str, allow_http: bool) -> Result<(), &'static str> {
    check_key_url(url, allow_http).map_err(|why| match why {
        UrlRefusal::NotAUrl => "issuer is not an absolute URL with a host",
        UrlRefusal::Userinfo => "issuer must not carry a user name or password (`user:pw@` before the host)",
        UrlRefusal::NotHttps => "issuer must be an https:// URL",
        UrlRefusal::PlainHttp => {
            "issuer must use https (plain http is only allowed for loopback addresses with allow_http_issuer)"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_is_allowed() {
        assert!(
            check_issuer_url(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
                false
            )
            .is_ok()
        );
        assert!(check_issuer_url("http://127.0.0.1:9000", false).is_err());
        assert!(check_issuer_url("http://127.0.0.1:9000", true).is_ok());
        assert!(check_issuer_url("http://localhost:9000/x", true).is_ok());
        assert!(check_issuer_url("http://[::1]:9000", true).is_ok());
        assert!(check_issuer_url("http://10.0.0.1:9000", true).is_err());
        assert!(check_issuer_url("http://127.0.0.1.evil.test", true).is_err());
        assert!(check_issuer_url("http://localhost.evil.test", true).is_err());
        assert!(check_issuer_url("ftp://x", true).is_err());
    }

    #[test]
    fn plain_loopback_urls_are_accepted_when_allowed() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://[::1]:9/x",
        ] {
            assert_eq!(check_key_url(url, true), Ok(()), "{url}");
            assert!(is_loopback_http(url), "{url}");
            assert_eq!(
                check_key_url(url, false),
                Err(UrlRefusal::PlainHttp),
                "{url}"
            );
        }
    }

    #[test]
    fn userinfo_is_refused_even_where_it_looks_like_loopback() {
        for url in [
            "http://localhost:1@evil.example/",
            "http://127.0.0.1@evil.example/",
            "http://127.0.0.1:9000@evil.example/",
            "http://[::1]:80@x/",
            "http://user:pw@127.0.0.1/",
            "http://user@localhost/",
            "https://user:pw@idp.example/",
        ] {
            assert_eq!(check_key_url(url, true), Err(UrlRefusal::Userinfo), "{url}");
            assert!(!is_loopback_http(url), "{url}");
            let why = check_issuer_url(url, true).expect_err(url);
            assert!(why.contains("user name or password"), "{url}: {why}");
        }
    }

    #[test]
    fn urls_without_a_host_are_refused() {
        for url in [
            "http://",
            "https://",
            "not a url",
            "/relative",
            "data:text/plain,x",
        ] {
            assert!(check_key_url(url, true).is_err(), "{url}");
        }
    }
}
