//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or none for a public client, which names
//! itself with `client_id`. One method per request.

use super::Idp;
use super::clients::Client;
use super::form::Params;
use super::oauth_error::OAuthError;
use axum::http::{HeaderMap, header};
use base64::Engine as _;

/// The authenticated (or, for a public client, identified) client.
pub fn authenticate<'a>(
    idp: &'a Idp,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a Client, OAuthError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => Some(parse_basic(v.to_str().unwrap_or_default()).ok_or_else(|| {
            OAuthError::invalid_client("the Authorization header is not valid Basic credentials")
        })?),
    };
    let posted_secret = params.get("client_secret");
    match basic {
        Some((id, secret)) => {
            if posted_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not two",
                ));
            }
            if params.get("client_id").is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            match idp.clients.get(&id) {
                Some(c) if c.secret_matches(&secret) => Ok(c),
                _ => Err(OAuthError::invalid_client("client authentication failed")),
            }
        }
        None => {
            let Some(id) = params.get("client_id") else {
                return Err(OAuthError::invalid_client(
                    "client_id is required (or Basic client authentication)",
                ));
            };
            let Some(client) = idp.clients.get(id) else {
                return Err(OAuthError::invalid_client("client authentication failed"));
            };
            match (client.is_confidential(), posted_secret) {
                (false, None) => Ok(client),
                (true, Some(secret)) if client.secret_matches(secret) => Ok(client),
                (true, None) => Err(OAuthError::invalid_client(
                    "this client is confidential: authenticate with its secret",
                )),
                _ => Err(OAuthError::invalid_client("client authentication failed")),
            }
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_credentials() {
        use base64::Engine as _;
        let header = |raw: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        };
        assert_eq!(
            super::parse_basic(&header("web:s%3Acret+x")),
            Some(("web".into(), "s:cret x".into()))
        );
        assert_eq!(super::parse_basic(&header("no-colon")), None);
        assert_eq!(super::parse_basic("Bearer abc"), None);
        assert_eq!(super::parse_basic("Basic !!!"), None);
    }
}
