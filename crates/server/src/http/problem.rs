//! RFC 9457 problem documents: the one error body format clients ever see.

use crate::telemetry::request_id::RequestId;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use std::borrow::Cow;
use std::future::Future;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// `type` is always `about:blank`: the status code is the whole classification, so `title` is
/// the status's reason phrase (RFC 9457 section 4.2.1). `detail` is a fixed sentence per status.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: &'static str,
    pub request_id: Option<String>,
    /// What a client got wrong in a 400/422: each field or parameter at fault and its rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One field at fault: where it is and which rule it breaks, never its value. A body field is
/// named by a JSON pointer (RFC 6901) into the body, a query or path parameter or a header by
/// its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub at: Location,
    pub detail: Cow<'static, str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Pointer(String),
    Parameter(String),
}

impl FieldError {
    pub fn pointer(pointer: impl Into<String>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            at: Location::Pointer(pointer.into()),
            detail: detail.into(),
        }
    }

    pub fn parameter(name: impl Into<String>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            at: Location::Parameter(name.into()),
            detail: detail.into(),
        }
    }
}

/// `{"pointer": "/name", "detail": ...}` or `{"parameter": "page_size", "detail": ...}`.
impl Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match &self.at {
            Location::Pointer(p) => map.serialize_entry("pointer", p)?,
            Location::Parameter(p) => map.serialize_entry("parameter", p)?,
        }
        map.serialize_entry("detail", &self.detail)?;
        map.end()
    }
}

impl Problem {
    pub fn new(status: StatusCode) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail_for(status),
            request_id: RequestId::current().map(|id| id.to_string()),
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_detail(mut self, detail: &'static str) -> Self {
        self.detail = detail;
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response()
    }
}

/// The generic sentence for a status. Deliberately says nothing about the cause.
pub fn detail_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "The request is malformed.",
        StatusCode::UNAUTHORIZED => "A valid access token is required.",
        StatusCode::FORBIDDEN => "You are not allowed to perform this action.",
        StatusCode::NOT_FOUND => "The requested resource does not exist.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this resource.",
        StatusCode::NOT_ACCEPTABLE => "No acceptable representation is available.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long to arrive.",
        StatusCode::CONFLICT => "The request conflicts with the current state of the resource.",
        StatusCode::PRECONDITION_FAILED => "The resource has changed since you last read it.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large (limit: 1 MiB).",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The request body must be application/json.",
        StatusCode::UNPROCESSABLE_ENTITY => {
            "The request is well-formed but its content is invalid."
        }
        StatusCode::TOO_MANY_REQUESTS => "Too many requests. Slow down and retry later.",
        StatusCode::SERVICE_UNAVAILABLE => "The service is temporarily unavailable. Retry later.",
        s if s.is_client_error() => "The request cannot be processed.",
        _ => "An internal error occurred.",
    }
}

/// Marks an error response whose body follows another standard (an OAuth error document, an
/// HTML page for a browser): [`problem_fallback`] leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorFormat;

/// Turns every error response that is not already a problem document (axum's 404 and 405,
/// extractor rejections, tower-http's 413 and timeouts) into one, with the request id. The
/// original body is dropped because it may hold library text (serde messages quote the input);
/// headers such as `Allow`, `WWW-Authenticate` and `Retry-After` are kept.
pub async fn problem_fallback<F>(req: Request, next: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let res = next(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || is_problem(&res)
        || res.extensions().get::<OwnErrorFormat>().is_some()
    {
        return res;
    }
    let (mut parts, _body) = res.into_parts();
    let problem = Problem::new(status);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, Body::from(body))
}

fn is_problem(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes())
}
