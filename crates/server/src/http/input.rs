//! Request inputs with rejections mapped onto `ApiError`, so that a malformed body, query or
//! path is a clear 4xx problem document and never a 500 or a plain-text axum error.

use super::error::ApiError;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON object body. Syntax errors are 400, a missing `application/json` content type 415,
/// and bodies that parse but do not fit (not an object, wrong types, unknown fields, missing
/// fields) 422.
///
/// The body is read as a JSON value first because serde's derived structs also accept a JSON
/// *array* of their fields in order (`[null, null]` would pass as `{"value": null, ...}`);
/// every request body of this API is an object, and anything else is refused.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) if v.is_object() => serde_json::from_value(v)
                .map(Body)
                .map_err(|_| ApiError::Unprocessable("body does not match the schema")),
            Ok(_) => Err(ApiError::Unprocessable("body must be a JSON object")),
            Err(JsonRejection::JsonDataError(_)) => {
                Err(ApiError::Unprocessable("body does not match the schema"))
            }
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::BadRequest("body is not valid JSON"))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::LengthLimitError(_),
            ))) => Err(ApiError::PayloadTooLarge),
            // A body that breaks off or is not valid HTTP framing (a bad chunk size).
            Err(_) => Err(ApiError::BadRequest("unreadable body")),
        }
    }
}

/// Query parameters; anything that does not fit the declared parameters is 422.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(_)) | Err(_) => Err(
                ApiError::Unprocessable("query parameters do not match the schema"),
            ),
        }
    }
}

/// One parameter of the route's path, by name, parsed; a malformed value is 400.
pub async fn path_param<T: std::str::FromStr>(
    parts: &mut Parts,
    name: &str,
) -> Result<T, ApiError> {
    let params = axum::extract::RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|_| ApiError::NotFound)?;
    let raw = params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .ok_or(ApiError::NotFound)?;
    raw.parse()
        .map_err(|_| ApiError::BadRequest("malformed id in the path"))
}

macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $param:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $ty);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
                path_param(parts, $param).await.map($name)
            }
        }
    };
}

path_id!(
    /// `{id}` of a resource route.
    ResourcePath,
    portcullis_store::ResourceId,
    "id"
);
path_id!(
    /// `{user_id}` of a member or admin route.
    UserPath,
    portcullis_store::UserId,
    "user_id"
);
