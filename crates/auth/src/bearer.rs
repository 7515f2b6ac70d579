//! Getting the bearer token out of a request (RFC 6750), and axum extractors built on it.

use crate::rejection::Rejection;
use crate::verifier::{Verified, Verifier};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Query parameters that carry tokens in the wild. A request that puts a token there is
/// refused outright: the URL, and with it the token, ends up in access logs and browser history.
const TOKEN_PARAMS: [&str; 3] = ["access_token", "id_token", "token"];

/// The bearer token of a request: from exactly one `Authorization: Bearer <token>` header, the
/// scheme matched case-insensitively (RFC 7235), never from the query string.
pub fn bearer_token<'a>(headers: &'a HeaderMap, query: Option<&str>) -> Result<&'a str, Rejection> {
    if query.is_some_and(carries_token) {
        return Err(Rejection::TokenInQuery);
    }
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Rejection::Missing);
    };
    if values.next().is_some() {
        return Err(Rejection::Malformed);
    }
    let value = value.to_str().map_err(|_| Rejection::Malformed)?;
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            Rejection::Malformed
        } else {
            Rejection::Missing
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::Missing);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() || token.contains(' ') {
        return Err(Rejection::Malformed);
    }
    Ok(token)
}

/// Names are percent-decoded as the application's own query parser (form-urlencoded) would
/// decode them, so `%61ccess_token` is caught like `access_token`; they are compared without
/// regard to ASCII case, since some frameworks read parameters that way.
fn carries_token(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes())
        .any(|(name, _)| TOKEN_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p)))
}

/// The `WWW-Authenticate` challenge for a refusal: plain `Bearer` when no token was sent,
/// `error="invalid_token"` for a bad one, `error="insufficient_scope"` for a missing scope.
pub fn challenge(rejection: Rejection) -> HeaderValue {
    HeaderValue::from_static(match rejection {
        Rejection::Missing => "Bearer",
        Rejection::InsufficientScope => "Bearer error=\"insufficient_scope\"",
        _ => "Bearer error=\"invalid_token\"",
    })
}

/// The status for a refusal: 403 for a missing scope, 503 when the introspection endpoint
/// could not be asked (the token may be fine), 401 for everything else.
pub fn status(rejection: Rejection) -> StatusCode {
    match rejection {
        Rejection::InsufficientScope => StatusCode::FORBIDDEN,
        Rejection::IntrospectionUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// A refusal as a response: the same generic body whatever the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthError(pub Rejection);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        tracing::info!(reason = self.0.code(), "token refused");
        let status = status(self.0);
        // RFC 9457, with one fixed sentence per status: nothing about the token or the reason.
        let body = serde_json::json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Unauthorized"),
            "status": status.as_u16(),
            "detail": match status {
                StatusCode::FORBIDDEN => "The access token lacks a required scope.",
                StatusCode::SERVICE_UNAVAILABLE => "The access token cannot be checked now; try again later.",
                _ => "A valid access token is required.",
            },
        });
        let mut resp = (status, body.to_string()).into_response();
        let headers = resp.headers_mut();
        if status != StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(WWW_AUTHENTICATE, challenge(self.0));
        }
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}

/// Extractor for a verified token, for services embedding this library. Needs an
/// `Arc<Verifier>` reachable from the router state.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Verified>);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<Verifier>::from_ref(state);
        let token = bearer_token(&parts.headers, parts.uri.query()).map_err(AuthError)?;
        verifier
            .verify(token)
            .await
            .map(Authenticated)
            .map_err(AuthError)
    }
}

/// A set of scopes a route requires; implement it on a marker type.
pub trait ScopeSet: Send + Sync + 'static {
    /// The scopes, every one of which the token must carry.
    const SCOPES: &'static [&'static str];
}

/// Extractor for a verified token that carries every scope of `S`.
#[derive(Debug, Clone)]
pub struct Scoped<S: ScopeSet>(pub Arc<Verified>, std::marker::PhantomData<S>);

impl<St, S> FromRequestParts<St> for Scoped<S>
where
    Arc<Verifier>: FromRef<St>,
    St: Send + Sync,
    S: ScopeSet,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let Authenticated(v) = Authenticated::from_request_parts(parts, state).await?;
        v.require_scopes(S::SCOPES).map_err(AuthError)?;
        Ok(Scoped(v, std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc"] {
            assert_eq!(bearer_token(&headers(&[v]), None), Ok("abc"), "{v}");
        }
    }

    #[test]
    fn missing_and_malformed() {
        assert_eq!(bearer_token(&headers(&[]), None), Err(Rejection::Missing));
        assert_eq!(
            bearer_token(&headers(&["Basic dTpw"]), None),
            Err(Rejection::Missing)
        );
        assert_eq!(
            bearer_token(&headers(&["Bearer"]), None),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            bearer_token(&headers(&["Bearer "]), None),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            bearer_token(&headers(&["Bearer a b"]), None),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            bearer_token(&headers(&["Bearer a", "Bearer b"]), None),
            Err(Rejection::Malformed)
        );
    }

    #[tokio::test]
    async fn refusals_are_generic_problem_documents() {
        let mut bodies = Vec::new();
        for r in [
            Rejection::Expired,
            Rejection::BadSignature,
            Rejection::UnknownKid,
        ] {
            let resp = AuthError(r).into_response();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                resp.headers().get("content-type").map(|v| v.as_bytes()),
                Some(&b"application/problem+json"[..])
            );
            assert_eq!(
                resp.headers().get(WWW_AUTHENTICATE).map(|v| v.as_bytes()),
                Some(&br#"Bearer error="invalid_token""#[..])
            );
            let body = axum::body::to_bytes(resp.into_body(), 4096)
                .await
                .expect("body");
            assert!(!String::from_utf8_lossy(&body).contains(r.code()));
            bodies.push(body);
        }
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "no oracle");
        let forbidden = AuthError(Rejection::InsufficientScope).into_response();
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn tokens_in_the_query_string_are_refused() {
        let h = headers(&["Bearer abc"]);
        assert_eq!(
            bearer_token(&h, Some("access_token=abc")),
            Err(Rejection::TokenInQuery)
        );
        assert_eq!(
            bearer_token(&h, Some("x=1&ID_TOKEN=abc")),
            Err(Rejection::TokenInQuery)
        );
        assert_eq!(bearer_token(&h, Some("kind=token_list")), Ok("abc"));
    }

    #[test]
    fn percent_encoded_token_parameter_names_are_refused() {
        let h = headers(&["Bearer abc"]);
        for query in [
            "access%5Ftoken=x",
            "%61ccess_token=x",
            "%61%63%63%65%73%73%5F%74%6F%6B%65%6E=x",
            "x=1&ACCESS_TOKEN=",
            "x=1&Access%5fToken=x",
            "id%5ftoken=x",
            "%74oken=x",
            "access_token",
        ] {
            assert_eq!(
                bearer_token(&h, Some(query)),
                Err(Rejection::TokenInQuery),
                "{query}"
            );
        }
        for query in ["access%5Ftokens=x", "x=access_token", "token%5Flist=1"] {
            assert_eq!(bearer_token(&h, Some(query)), Ok("abc"), "{query}");
        }
    }
}
