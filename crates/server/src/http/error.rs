//! `ApiError` is the only way a handler fails. Each variant maps to one status and one fixed,
//! generic sentence; whatever caused it is logged under the request id and never sent to the
//! client (no SQL, library message or claim value can leak through an error body).

use super::problem::{FieldError, Problem};
use crate::telemetry::request_id::RequestId;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_auth::Rejection;
use portcullis_auth::bearer::challenge;
use portcullis_store::StoreError;
use std::borrow::Borrow;
use std::error::Error as StdError;

pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The `&'static str`s below are reasons for the log, never for the client.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A missing or refused token; the reason is logged and counted, never sent, so every
    /// refused token gets the same body.
    #[error("unauthorized: {0}")]
    Unauthorized(Rejection),
    /// A valid token without the MFA proof the route needs (RFC 9470); carries the challenge.
    #[error("step-up authentication required")]
    StepUp(HeaderValue),
    /// A valid token without a scope the route needs.
    #[error("insufficient scope")]
    InsufficientScope,
    #[error("forbidden")]
    Forbidden,
    /// 403 whose fixed sentence tells the client which policy refused it (no value, no cause).
    #[error("forbidden by policy: {0}")]
    ForbiddenBy(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("unprocessable: {0}")]
    Unprocessable(&'static str),
    /// 400 naming what could not be read (a path parameter, a header, the body as a whole);
    /// sent to the client as `errors`.
    #[error("malformed: {0:?}")]
    Malformed(Vec<FieldError>),
    /// 422 naming each field at fault and the rule it breaks; sent to the client as `errors`.
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl ApiError {
    pub fn internal(e: impl Into<BoxError>) -> Self {
        Self::Internal(e.into())
    }

    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        Self::Unavailable(e.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::StepUp(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::Forbidden | Self::ForbiddenBy(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) | Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn log(&self) {
        let request_id = RequestId::current().map(|id| id.to_string());
        let request_id = request_id.as_deref().unwrap_or("-");
        match self {
            Self::Unavailable(cause) | Self::Internal(cause) => tracing::error!(
                request_id,
                status = self.status().as_u16(),
                cause = %chain(cause.as_ref()),
                "request failed"
            ),
            Self::Unauthorized(rejection) => tracing::info!(
                request_id,
                status = 401,
                reason = rejection.code(),
                "token refused"
            ),
            other => tracing::debug!(
                request_id,
                status = other.status().as_u16(),
                reason = %other,
                "request refused"
            ),
        }
    }
}

/// `outer: inner: innermost`, so the log line shows the root cause of a driver error.
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Marks a response whose `WWW-Authenticate` is a token challenge, for
/// `crate::http::challenge`, which gives it the server's full set (DPoP, `resource_metadata`).
/// `None`: a challenge built elsewhere (MFA step-up), kept and completed.
#[derive(Debug, Clone, Copy)]
pub struct Challenged(pub Option<Rejection>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut problem = Problem::new(self.status());
        match &self {
            Self::ForbiddenBy(detail) => problem = problem.with_detail(detail),
            Self::Malformed(errors) | Self::Invalid(errors) => {
                problem = problem.with_errors(errors.clone());
            }
            _ => {}
        }
        let mut res = problem.into_response();
        let headers = res.headers_mut();
        match &self {
            Self::Unauthorized(rejection) => {
                headers.insert(header::WWW_AUTHENTICATE, challenge(*rejection));
                res.extensions_mut().insert(Challenged(Some(*rejection)));
            }
            Self::InsufficientScope => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    challenge(Rejection::InsufficientScope),
                );
                res.extensions_mut()
                    .insert(Challenged(Some(Rejection::InsufficientScope)));
            }
            Self::StepUp(challenge) => {
                headers.insert(header::WWW_AUTHENTICATE, challenge.clone());
                res.extensions_mut().insert(Challenged(None));
            }
            Self::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        res
    }
}

impl From<crate::access::Denied> for ApiError {
    fn from(d: crate::access::Denied) -> Self {
        use crate::access::Denied;
        match d {
            Denied::Rejected(r) => r.into(),
            Denied::NotProvisioned => Self::Forbidden,
            Denied::StepUp(s) => s.into(),
            // Only a socket's refresh names a subject; no request does.
            Denied::OtherSubject => Self::Forbidden,
            Denied::Unavailable(e) => Self::from_shared_store_error(e),
        }
    }
}

impl From<crate::mfa::StepUp> for ApiError {
    fn from(s: crate::mfa::StepUp) -> Self {
        Self::StepUp(s.0)
    }
}

impl ApiError {
    /// A store error shared by several waiters of one cache load.
    pub fn from_shared_store_error(e: std::sync::Arc<StoreError>) -> Self {
        classify(SharedCause(e))
    }
}

/// What a store error means to the client, decided once for owned and shared errors. The
/// error itself is kept as the cause of a 503 or 500, for the log.
fn classify<E>(e: E) -> ApiError
where
    E: Borrow<StoreError> + Into<BoxError>,
{
    match e.borrow() {
        StoreError::NotFound => ApiError::NotFound,
        StoreError::Forbidden(_) => ApiError::Forbidden,
        StoreError::Conflict(why) => ApiError::Conflict(why),
        StoreError::VersionMismatch { .. } => ApiError::PreconditionFailed,
        StoreError::Invalid(why) => ApiError::Unprocessable(why),
        StoreError::Unavailable(_) => ApiError::Unavailable(e.into()),
        StoreError::Internal(_) => ApiError::Internal(e.into()),
    }
}

/// Lets an `Arc<StoreError>` be logged as the cause of an `ApiError`.
#[derive(Debug)]
struct SharedCause(std::sync::Arc<StoreError>);

impl std::fmt::Display for SharedCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for SharedCause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl Borrow<StoreError> for SharedCause {
    fn borrow(&self) -> &StoreError {
        &self.0
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::InsufficientScope => Self::InsufficientScope,
            // The issuer could not be asked: the token may be fine, so this is no 401; and it is
            // never accepted unchecked.
            Rejection::IntrospectionUnavailable => Self::Unavailable(Box::new(r)),
            other => Self::Unauthorized(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        classify(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_errors() -> [(StoreError, u16); 7] {
        [
            (StoreError::NotFound, 404),
            (StoreError::Forbidden("role"), 403),
            (StoreError::Conflict("dup"), 409),
            (StoreError::VersionMismatch { current: 3 }, 412),
            (StoreError::Invalid("bad"), 422),
            (StoreError::unavailable("down"), 503),
            (StoreError::internal("boom"), 500),
        ]
    }

    #[test]
    fn store_errors_map_to_statuses() {
        for (e, status) in store_errors() {
            assert_eq!(ApiError::from(e).status().as_u16(), status);
        }
    }

    #[test]
    fn shared_store_errors_map_and_log_like_owned_ones() {
        let logged = |e: &ApiError| match e {
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => Some(chain(cause.as_ref())),
            _ => None,
        };
        for ((owned, status), (shared, _)) in store_errors().into_iter().zip(store_errors()) {
            let owned = ApiError::from(owned);
            let shared = ApiError::from_shared_store_error(std::sync::Arc::new(shared));
            assert_eq!(shared.status().as_u16(), status);
            assert_eq!(logged(&shared), logged(&owned));
        }
    }

    #[tokio::test]
    async fn body_is_generic_and_never_carries_the_cause() {
        let e = ApiError::internal("syntax error at or near \"SELEC\" in sqlx");
        let res = e.into_response();
        assert_eq!(res.status(), 500);
        let ct = res.headers().get(header::CONTENT_TYPE).cloned();
        assert_eq!(
            ct.as_ref().map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("SELEC") && !text.contains("sqlx"), "{text}");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["status"], 500);
        assert_eq!(v["type"], "about:blank");
    }

    #[test]
    fn unauthorized_carries_the_bearer_challenge() {
        let res = ApiError::Unauthorized(Rejection::Expired).into_response();
        assert_eq!(
            res.headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&br#"Bearer error="invalid_token""#[..])
        );
        let res = ApiError::Unauthorized(Rejection::Missing).into_response();
        assert_eq!(
            res.headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
    }
}
