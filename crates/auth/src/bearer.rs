//! Getting the access token out of a request (RFC 6750 `Bearer`, RFC 9449 `DPoP`), the
//! `WWW-Authenticate` challenges of a refusal, and axum extractors built on them.

use crate::dpop::{RequestProofs, Scheme};
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
/// scheme matched case-insensitively (RFC 7235), never from the query string. A `DPoP` scheme
/// counts as no token here; [`access_token`] reads both.
pub fn bearer_token<'a>(headers: &'a HeaderMap, query: Option<&str>) -> Result<&'a str, Rejection> {
    match access_token(headers, query)? {
        (Scheme::Bearer, token) => Ok(token),
        (Scheme::Dpop, _) => Err(Rejection::Missing),
    }
}

/// The access token of a request and how it was presented: exactly one `Authorization` header
/// with the `Bearer` or the `DPoP` scheme (case-insensitive, RFC 7235), never the query string.
/// Whether the scheme fits the token is [`Verifier::check_binding`]'s decision.
pub fn access_token<'a>(
    headers: &'a HeaderMap,
    query: Option<&str>,
) -> Result<(Scheme, &'a str), Rejection> {
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
    let (value, spaces) = visible_ascii(value.as_bytes()).ok_or(Rejection::Malformed)?;
    let scheme_of = |name: &str| {
        if name.eq_ignore_ascii_case("bearer") {
            Some(Scheme::Bearer)
        } else if name.eq_ignore_ascii_case("dpop") {
            Some(Scheme::Dpop)
        } else {
            None
        }
    };
    let Some((name, rest)) = value.split_once(' ') else {
        return Err(if scheme_of(value).is_some() {
            Rejection::Malformed
        } else {
            Rejection::Missing
        });
    };
    let Some(scheme) = scheme_of(name) else {
        return Err(Rejection::Missing);
    };
    let token = rest.trim_start_matches(' ');
    // The spaces before the token are the separator and those trimmed; any other is inside it.
    let before = value.len() - token.len() - name.len();
    if token.is_empty() || spaces > before {
        return Err(Rejection::Malformed);
    }
    Ok((scheme, token))
}

/// The header value as text when every byte is visible ASCII or a space, and how many spaces it
/// holds: the check `HeaderValue::to_str` makes (but for tabs, which no token contains),
/// written so that it runs over a whole kilobyte-long token in a few vector steps instead of a
/// byte at a time, and counts the spaces in the same pass instead of searching the token again.
fn visible_ascii(bytes: &[u8]) -> Option<(&str, usize)> {
    // Shifted down by a space, every allowed byte is at most `~ - ' '` and every other one is
    // above it (control bytes wrap around): one maximum and one count. The count is kept in a
    // byte per chunk of 255, so that both fit the same vector lanes and the loop vectorizes
    // (a `usize` count does not, and costs ten times as much).
    let (mut highest, mut spaces) = (0u8, 0usize);
    for chunk in bytes.chunks(usize::from(u8::MAX)) {
        let (high, n) = chunk.iter().fold((0u8, 0u8), |(high, n), b| {
            (high.max(b.wrapping_sub(b' ')), n + u8::from(*b == b' '))
        });
        highest = highest.max(high);
        spaces += usize::from(n);
    }
    if highest <= b'~' - b' ' {
        Some((std::str::from_utf8(bytes).ok()?, spaces))
    } else {
        None
    }
}

/// The `DPoP` header values of a request, for [`RequestProofs`]; a value that is not text is
/// kept as an empty proof, which fails.
pub fn dpop_proofs(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all("dpop")
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect()
}

/// The challenges a server sends with a 401, per its configuration: `Bearer` unless every
/// issuer requires DPoP, `DPoP algs="..."` when some issuer accepts DPoP (RFC 9449 7.1), and on
/// each the `resource_metadata` URL of RFC 9728 section 5.1 when one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenges {
    bearer: bool,
    dpop_algs: Option<String>,
    resource_metadata: Option<String>,
}

impl Default for Challenges {
    fn default() -> Self {
        Self {
            bearer: true,
            dpop_algs: None,
            resource_metadata: None,
        }
    }
}

impl Challenges {
    /// The challenges of `verifier`'s configuration.
    pub fn for_verifier(verifier: &Verifier) -> Self {
        let modes: Vec<crate::dpop::DpopMode> = verifier
            .providers()
            .flat_map(|p| p.issuers())
            .map(|iss| verifier.dpop_mode(&iss))
            .collect();
        let dpop = verifier
            .dpop()
            .filter(|_| modes.iter().any(|m| *m != crate::dpop::DpopMode::Off));
        Self {
            bearer: !(dpop.is_some()
                && modes.iter().all(|m| *m == crate::dpop::DpopMode::Required)),
            dpop_algs: dpop.map(|d| d.algs().to_owned()),
            resource_metadata: None,
        }
    }

    /// Names the protected-resource metadata document in every challenge.
    #[must_use]
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// Whether DPoP is accepted for some issuer.
    pub fn dpop(&self) -> bool {
        self.dpop_algs.is_some()
    }

    /// The challenges for `rejection`, one header value each.
    pub fn headers(&self, rejection: Rejection) -> Vec<HeaderValue> {
        let mut out: Vec<String> = Vec::new();
        let dpop = |error: Option<&str>| {
            self.dpop_algs.as_ref().map(|algs| match error {
                Some(e) => format!("DPoP error=\"{e}\", algs=\"{algs}\""),
                None => format!("DPoP algs=\"{algs}\""),
            })
        };
        if rejection == Rejection::DpopNonceRequired {
            out.extend(dpop(Some("use_dpop_nonce")));
        } else if rejection.is_dpop_proof() {
            out.extend(dpop(Some("invalid_dpop_proof")));
        } else {
            let error = match rejection {
                Rejection::Missing => None,
                Rejection::InsufficientScope => Some("insufficient_scope"),
                _ => Some("invalid_token"),
            };
            if self.bearer {
                out.push(match error {
                    None => "Bearer".to_owned(),
                    Some(e) => format!("Bearer error=\"{e}\""),
                });
            }
            out.extend(dpop(error));
        }
        if out.is_empty() {
            // A proof error with DPoP configured nowhere cannot happen; say invalid_token.
            out.push("Bearer error=\"invalid_token\"".to_owned());
        }
        out.iter()
            .filter_map(|c| HeaderValue::from_str(&self.with_metadata(c)).ok())
            .collect()
    }

    /// `challenge` with the `resource_metadata` parameter added, when one is set.
    pub fn with_metadata(&self, challenge: &str) -> String {
        match &self.resource_metadata {
            None => challenge.to_owned(),
            Some(url) if challenge.contains(' ') => {
                format!("{challenge}, resource_metadata=\"{url}\"")
            }
            Some(url) => format!("{challenge} resource_metadata=\"{url}\""),
        }
    }
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

/// A refusal with the challenges of the verifier's configuration (both schemes when DPoP is
/// on) and, for `use_dpop_nonce`, a fresh `DPoP-Nonce`.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Why the token was refused (logs and metrics; never sent to the client).
    pub rejection: Rejection,
    /// The `WWW-Authenticate` challenges to answer with.
    pub challenges: Challenges,
    /// A fresh server nonce for the `DPoP-Nonce` header, when the refusal asks for one.
    pub nonce: Option<String>,
}

impl Refused {
    /// The refusal `rejection`, with the challenges `verifier` is configured for.
    pub fn new(verifier: &Verifier, rejection: Rejection) -> Self {
        Self {
            rejection,
            challenges: Challenges::for_verifier(verifier),
            nonce: verifier.dpop().and_then(|d| d.nonce()),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut resp = AuthError(self.rejection).into_response();
        let headers = resp.headers_mut();
        headers.remove(WWW_AUTHENTICATE);
        for value in self.challenges.headers(self.rejection) {
            headers.append(WWW_AUTHENTICATE, value);
        }
        if let Some(nonce) = self.nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            headers.insert("dpop-nonce", nonce);
        }
        resp
    }
}

/// Extractor for a verified token, for services embedding this library. Needs an
/// `Arc<Verifier>` reachable from the router state. Takes `Bearer` tokens, and `DPoP` tokens
/// with their proof for the issuers whose profile turns DPoP on (the proof's `htu` is checked
/// against the resource URL of the verifier's DPoP configuration and the request path).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Verified>);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<Verifier>::from_ref(state);
        let refuse = |r| Refused::new(&verifier, r);
        let (scheme, token) = access_token(&parts.headers, parts.uri.query()).map_err(refuse)?;
        let verified = verifier.verify(token).await.map_err(refuse)?;
        let request = RequestProofs {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            proofs: dpop_proofs(&parts.headers),
        };
        verifier
            .check_binding(scheme, token, &verified, &request)
            .await
            .map_err(refuse)?;
        Ok(Authenticated(verified))
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
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let Authenticated(v) = Authenticated::from_request_parts(parts, state).await?;
        v.require_scopes(S::SCOPES)
            .map_err(|r| Refused::new(&Arc::<Verifier>::from_ref(state), r))?;
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

    /// The spaces before the token are counted apart from any inside or after it: one there,
    /// however many come before it, makes the value malformed.
    #[test]
    fn a_space_inside_or_after_the_token_is_malformed() {
        for v in [
            "Bearer   a b",
            "Bearer a ",
            "Bearer  a  ",
            "DPoP a b",
            "bearer a  b",
        ] {
            assert_eq!(
                access_token(&headers(&[v]), None),
                Err(Rejection::Malformed),
                "{v:?}"
            );
        }
        assert_eq!(
            access_token(&headers(&["DPoP    abc"]), None),
            Ok((Scheme::Dpop, "abc"))
        );
    }

    /// Bytes outside visible ASCII anywhere in the value, a kilobyte in included, make it
    /// malformed; a token of visible ASCII of that length is taken whole.
    #[test]
    fn only_visible_ascii_is_a_token() {
        let long = "a".repeat(1000);
        for bad in [
            format!("Bearer {long}\u{e9}"),
            format!("Bearer {long}\t{long}"),
            format!("Bearer \t{long}"),
        ] {
            let mut h = HeaderMap::new();
            h.append(
                AUTHORIZATION,
                HeaderValue::from_bytes(bad.as_bytes()).expect("header"),
            );
            assert_eq!(bearer_token(&h, None), Err(Rejection::Malformed), "{bad:?}");
        }
        let good = format!("Bearer {long}~!");
        assert_eq!(
            bearer_token(&headers(&[&good]), None),
            Ok(&good["Bearer ".len()..])
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
    fn the_dpop_scheme_is_read_too() {
        for v in ["DPoP abc", "dpop abc", "DPOP   abc"] {
            assert_eq!(
                access_token(&headers(&[v]), None),
                Ok((Scheme::Dpop, "abc")),
                "{v}"
            );
            // Not a bearer token.
            assert_eq!(bearer_token(&headers(&[v]), None), Err(Rejection::Missing));
        }
        assert_eq!(
            access_token(&headers(&["DPoP"]), None),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            access_token(&headers(&["DPoP a b"]), None),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            access_token(&headers(&["Bearer a", "DPoP a"]), None),
            Err(Rejection::Malformed)
        );
    }

    #[test]
    fn challenges_follow_the_configuration() {
        let plain = Challenges::default().resource_metadata("https://r/.well-known/x");
        let text = |c: &Challenges, r| {
            c.headers(r)
                .iter()
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            text(&plain, Rejection::Missing),
            [r#"Bearer resource_metadata="https://r/.well-known/x""#]
        );
        assert_eq!(
            text(&plain, Rejection::Expired),
            [r#"Bearer error="invalid_token", resource_metadata="https://r/.well-known/x""#]
        );
        let both = Challenges {
            bearer: true,
            dpop_algs: Some("ES256".into()),
            resource_metadata: None,
        };
        assert_eq!(
            text(&both, Rejection::Missing),
            ["Bearer", r#"DPoP algs="ES256""#]
        );
        assert_eq!(
            text(&both, Rejection::DpopReplayed),
            [r#"DPoP error="invalid_dpop_proof", algs="ES256""#]
        );
        assert_eq!(
            text(&both, Rejection::DpopNonceRequired),
            [r#"DPoP error="use_dpop_nonce", algs="ES256""#]
        );
        let only = Challenges {
            bearer: false,
            ..both
        };
        assert_eq!(
            text(&only, Rejection::DpopRequired),
            [r#"DPoP error="invalid_token", algs="ES256""#]
        );
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
