//! Request inputs with rejections mapped onto `ApiError`, so that a malformed body, query or
//! path is a clear 4xx problem document and never a 500 or a plain-text axum error.

mod fault;
mod json;
mod query;
pub mod rules;

pub use rules::Rules;
pub(crate) use rules::rules;

use super::error::ApiError;
use super::problem::FieldError;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use rules::Place;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// 422 about one body field, named by its JSON pointer (`/name`).
pub fn invalid_field(pointer: &str, rule: &'static str) -> ApiError {
    ApiError::Invalid(vec![FieldError::pointer(pointer, rule)])
}

/// 422 about one query parameter.
pub fn invalid_parameter(name: &str, rule: &'static str) -> ApiError {
    ApiError::Invalid(vec![FieldError::parameter(name, rule)])
}

/// A JSON object body. Syntax errors are 400, a missing `application/json` content type 415,
/// and bodies that parse but do not fit (not an object, wrong types, unknown fields, missing
/// fields) 422, each naming the fields at fault by JSON pointer and saying the rule (`T`'s
/// [`Rules`]).
///
/// The body is read as a JSON value first because serde's derived structs also accept a JSON
/// *array* of their fields in order (`[null, null]` would pass as `{"value": null, ...}`);
/// every request body of this API is an object, and anything else is refused.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned + Rules,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let whole = |detail| vec![FieldError::pointer("", detail)];
        match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(v)) if v.is_object() => json::from_value(&v).map(Body).map_err(|fault| {
                let names = v.as_object().into_iter().flat_map(|m| m.keys());
                ApiError::Invalid(rules::report::<T>(
                    &fault,
                    Place::Body,
                    names.map(String::as_str),
                ))
            }),
            Ok(_) => Err(ApiError::Invalid(whole("must be a JSON object"))),
            // A JSON value that serde_json itself refuses to hold (none is known today).
            Err(JsonRejection::JsonDataError(_)) => Err(ApiError::Invalid(whole(
                "is not a JSON value this API reads",
            ))),
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::Malformed(whole("is not valid JSON")))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::LengthLimitError(_),
            ))) => Err(ApiError::PayloadTooLarge),
            // A body that breaks off or is not valid HTTP framing (a bad chunk size).
            Err(_) => Err(ApiError::Malformed(whole("could not be read in full"))),
        }
    }
}

/// Query parameters; anything that does not fit the declared parameters is 422, naming the
/// parameters at fault and saying the rule (`T`'s [`Rules`]).
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Rules,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Decoding into text pairs does not fail today (bad percent-escapes are taken
        // literally, invalid UTF-8 is replaced); were it to, the parameters must not be
        // silently dropped.
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .map_err(|_| {
                ApiError::Invalid(vec![FieldError::parameter(
                    "",
                    "the query string cannot be read",
                )])
            })?;
        query::from_pairs(&pairs).map(Query).map_err(|fault| {
            let names = pairs.iter().map(|(name, _)| name.as_str());
            ApiError::Invalid(rules::report::<T>(&fault, Place::Query, names))
        })
    }
}

/// One parameter of the route's path, by name, parsed; a malformed value is 400 naming the
/// parameter. Every parsed path parameter is an id.
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
        .map_err(|_| ApiError::Malformed(vec![FieldError::parameter(name, "must be a UUID")]))
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

#[cfg(test)]
mod tests {
    use super::fault::{Fault, Kind};
    use super::*;
    use crate::http::routes::{audit, flags, identities, links, members, orgs, resources};

    /// The fields serde accepts for `T`, as it lists them to a client that sent another.
    fn fields<T: DeserializeOwned>() -> Vec<&'static str> {
        match json::from_value::<T>(&serde_json::json!({"\u{1}": 0})) {
            Err(Fault {
                kind: Kind::Unknown { accepted },
                ..
            }) => {
                let mut f = accepted.to_vec();
                f.sort_unstable();
                f
            }
            other => panic!("{:?}", other.err()),
        }
    }

    fn ruled<T: Rules>() -> Vec<&'static str> {
        let mut f: Vec<_> = T::RULES.iter().map(|(f, _)| *f).collect();
        f.sort_unstable();
        f
    }

    #[test]
    fn every_field_of_every_request_has_a_rule() {
        fn check<T: DeserializeOwned + Rules>() {
            assert_eq!(
                ruled::<T>(),
                fields::<T>(),
                "{}",
                std::any::type_name::<T>()
            );
        }
        check::<orgs::NewOrg>();
        check::<orgs::ListOrgs>();
        check::<members::ListMembers>();
        check::<members::AddMember>();
        check::<members::ChangeRole>();
        check::<resources::ListResources>();
        check::<resources::NewResourceBody>();
        check::<resources::PatchBody>();
        check::<audit::AuditQuery>();
        check::<flags::SetFlag>();
        check::<links::SetLink>();
        check::<identities::LinkIdentity>();
    }
}
