//! Console forms: a POST is accepted only from the console's own origin (`Origin` header, which
//! browsers send on every form POST) and with the session's CSRF token in its `csrf` field.

use super::caller::Signed;
use super::{Console, ConsoleState};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;

/// The fields of a form body (`application/x-www-form-urlencoded`); a repeated name keeps its
/// first value.
#[derive(Debug, Default)]
pub struct Fields(pub HashMap<String, String>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn parse(body: &[u8]) -> Self {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Self(map)
    }
}

/// A form body, before the CSRF check (which needs the session: [`Form::checked`]).
#[derive(Debug)]
pub struct Form(pub Fields);

/// Form bodies are small; anything bigger is not from a console page.
const MAX_FORM_BYTES: usize = 16 * 1024;

impl FromRequest<ConsoleState> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &ConsoleState) -> Result<Self, Response> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';').next().is_some_and(|t| {
                    t.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
        if !is_form {
            return Err(refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "This form could not be read.",
            ));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| refused(StatusCode::BAD_REQUEST, "This form could not be read."))?;
        if body.len() > MAX_FORM_BYTES {
            return Err(refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "This form is too large.",
            ));
        }
        Ok(Form(Fields::parse(&body)))
    }
}

impl Form {
    /// The fields, if the form carries the session's CSRF token.
    // The refusal is the page to answer with, as an extractor's rejection would be.
    #[allow(clippy::result_large_err)]
    pub fn checked(self, signed: &Signed) -> Result<Fields, Response> {
        let ok = self
            .0
            .get("csrf")
            .is_some_and(|t| super::session::same_secret(t, &signed.csrf));
        if ok {
            Ok(self.0)
        } else {
            Err(refused(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from the console. Reload the page and try again.",
            ))
        }
    }
}

/// Whether a state-changing request comes from the console's own origin. A request without
/// `Origin` is refused too: every browser the console supports sends it on a form POST.
pub fn same_origin(console: &Console, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == console.origin.as_bytes())
}

/// A refusal page without the frame (no session is assumed).
pub fn refused(status: StatusCode, why: &str) -> Response {
    let body =
        super::html::notice("error", why) + "<p><a href=\"/console\">Back to the console</a></p>";
    super::html::page(status, "Refused", &super::html::Frame::default(), &body)
}
