//! The OpenAPI 3.1 document (`GET /openapi.json`) and a small docs page that renders it
//! (`GET /docs`). Both are public: they describe the API, they do not expose data.
//!
//! Each handler's `#[utoipa::path]` lists the statuses that handler itself can produce. What
//! every operation shares is added once, by [`Conventions`]: 500 and 503 on every route (a
//! handler can always fail, and the timeout layer answers 503), and on every `/v1` route the
//! bearer requirement, 401 and 429. Error bodies are RFC 9457 problem documents under
//! `application/problem+json`, described here by [`problem_schema`] (the wire type is
//! [`super::problem::Problem`]).

use super::routes::{
    audit, flags, health, identities, links, me, members, orgs, resource_metadata, resources,
    sessions,
};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use portcullis_store::{
    AuditEntry, AuditId, Identity, MembershipSummary, OrgId, OrgLink, Resource, Role, User, UserId,
};
use std::sync::LazyLock;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, Responses};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};
use utoipa::{IntoParams, Modify, OpenApi, ToResponse, ToSchema};

/// The name of the bearer security scheme in `components.securitySchemes`.
pub const BEARER: &str = "bearer";

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Portcullis",
        description = "Multi-tenant resource API. Every `/v1` route needs `Authorization: Bearer <JWT>` \
                       (or `Authorization: DPoP <JWT>` with a `DPoP` proof, for DPoP-bound tokens); \
                       errors are RFC 9457 problem documents (`application/problem+json`).",
    ),
    paths(
        health::healthz,
        health::readyz,
        resource_metadata::metadata,
        me::me,
        orgs::list_mine,
        orgs::create,
        orgs::get,
        orgs::delete,
        orgs::restore,
        members::list,
        members::add,
        members::change_role,
        members::remove,
        resources::list,
        resources::create,
        resources::get,
        resources::patch,
        resources::delete,
        resources::restore,
        audit::for_org,
        audit::global,
        sessions::logout,
        sessions::logout_all,
        sessions::revoke_sessions,
        sessions::disable,
        sessions::enable,
        flags::list,
        flags::set,
        identities::link,
        links::list,
        links::set,
    ),
    components(
        schemas(
            UserId, OrgId, AuditId, Role, User, Resource, AuditEntry, MembershipSummary, Identity,
            OrgLink,
            OrgList, MemberList, ResourceList, AuditList,
            resource_metadata::ProtectedResourceMetadata,
        ),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
            PayloadTooLarge, UnsupportedMediaType, UnprocessableContent, TooManyRequests,
            ServiceUnavailable, InternalError,
        ),
    ),
    modifiers(&Conventions),
    tags(
        (name = "health", description = "Probes; no authentication."),
        (name = "me", description = "The caller."),
        (name = "orgs", description = "Organizations (tenants)."),
        (name = "members", description = "Org memberships and roles."),
        (name = "resources", description = "Org-scoped resources with optimistic concurrency."),
        (name = "audit", description = "The append-only, hash-chained audit log."),
        (name = "sessions", description = "Logging out, revoking sessions, disabling users, linking identities."),
        (name = "links", description = "Org memberships taken from claims of the provider's tokens."),
    ),
)]
pub struct ApiDoc;

/// The document, built once.
static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .map(String::into_bytes)
        .unwrap_or_default()
});

/// `GET /openapi.json`.
pub async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT.as_slice(),
    )
        .into_response()
}

/// `GET /docs`: one static page whose inline script lists the operations of `/openapi.json`.
/// Self-contained on purpose (no CDN), so it works offline.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

// ---------------------------------------------------------------------------------------------
// Path parameters shared by several routes.

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgParams {
    /// The org's id.
    pub org_id: OrgId,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserParams {
    /// The user's id.
    pub user_id: UserId,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberParams {
    /// The org's id.
    pub org_id: OrgId,
    /// The member's user id.
    pub user_id: UserId,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ResourceParams {
    /// The org's id.
    pub org_id: OrgId,
    /// The resource's id.
    pub id: portcullis_store::ResourceId,
}

// ---------------------------------------------------------------------------------------------
// The list envelope (`super::page::List<T>`) once per item type: `{items, next_cursor}`, where
// `next_cursor` is null on the last page.

macro_rules! list_schema {
    ($($name:ident => $item:ty),* $(,)?) => {
        $(
            #[derive(Debug, ToSchema)]
            pub struct $name {
                pub items: Vec<$item>,
                /// Opaque; pass it back as `cursor` for the next page. Null on the last page.
                #[schema(required = true)]
                pub next_cursor: Option<String>,
            }
        )*
    };
}

list_schema! {
    OrgList => orgs::OrgView,
    MemberList => members::MemberView,
    ResourceList => Resource,
    AuditList => AuditEntry,
}

// ---------------------------------------------------------------------------------------------
// Error responses.

pub const PROBLEM_JSON: &str = super::problem::PROBLEM_JSON;

/// RFC 9457 problem document, as [`super::problem::Problem`] serializes it.
pub fn problem_schema() -> Schema {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("RFC 9457 problem document."))
        .property(
            "type",
            string().description(Some(
                "Always `about:blank`: the status is the classification.",
            )),
        )
        .property(
            "title",
            string().description(Some("The status's reason phrase.")),
        )
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(400))
                .maximum(Some(599)),
        )
        .property(
            "detail",
            string().description(Some("A fixed sentence per status; never the cause.")),
        )
        .property(
            "request_id",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Uuid,
                )))
                .description(Some("The `x-request-id` of the response.")),
        )
        .property(
            "errors",
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(RefOr::T(field_error_schema()))
                .min_items(Some(1))
                .description(Some(
                    "In a 400 or 422 caused by the client: each field at fault and the rule it \
                     breaks. Never the value.",
                )),
        )
        .required("type")
        .required("title")
        .required("status")
        .required("detail")
        .required("request_id")
        .into()
}

/// `{"pointer", "detail"}` for a body field, `{"parameter", "detail"}` for a query or path
/// parameter or a header ([`super::problem::FieldError`]).
fn field_error_schema() -> Schema {
    let by = |name: &str, description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                name,
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(description)),
            )
            .property(
                "detail",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "The rule the field breaks, e.g. `must be between 1 and 100`.",
                    )),
            )
            .required(name)
            .required("detail")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::<Schema>::FreeForm(false),
            ))
    };
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(by(
            "pointer",
            "A JSON pointer (RFC 6901) into the request body, e.g. `/name`; empty for the body as a whole.",
        ))
        .item(by(
            "parameter",
            "The name of a query or path parameter, or of a header, e.g. `page_size`.",
        ))
        .into()
}

fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

macro_rules! problem_responses {
    ($($name:ident => $description:literal),* $(,)?) => {
        $(
            #[doc = $description]
            #[derive(Debug)]
            pub struct $name;

            impl<'s> ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<utoipa::openapi::Response>) {
                    (stringify!($name), problem_response($description).build().into())
                }
            }
        )*
    };
}

problem_responses! {
    BadRequest => "Malformed request: invalid JSON, a malformed id in the path, or a bad If-Match; `errors` names which.",
    Forbidden => "The caller's role does not allow this action.",
    NotFound => "No such object, or one in an org the caller does not belong to, or one that was deleted.",
    Conflict => "Conflicts with the current state (already a member; an org must keep an owner).",
    PreconditionFailed => "If-Match does not name the current version.",
    PayloadTooLarge => "The request body is over 1 MiB.",
    UnsupportedMediaType => "The request body must be application/json.",
    UnprocessableContent => "Well-formed but invalid: unknown or missing fields, wrong types, values out of range, a bad cursor; `errors` names each field and its rule.",
    ServiceUnavailable => "Temporarily unavailable (database down, request timed out); retry later.",
    InternalError => "Internal error; the cause is logged under the request id.",
}

/// 401, with the RFC 6750 challenge.
#[derive(Debug)]
pub struct Unauthorized;

impl<'s> ToResponse<'s> for Unauthorized {
    fn response() -> (&'s str, RefOr<utoipa::openapi::Response>) {
        let r = problem_response(
            "Missing, malformed, expired or otherwise refused access token, or DPoP proof.",
        )
        .header(
            "WWW-Authenticate",
            string_header(
                "`Bearer resource_metadata=\"...\"` when no token was sent, else \
                 `Bearer error=\"invalid_token\", resource_metadata=\"...\"`; \
                 `resource_metadata` is the URL of `/.well-known/oauth-protected-resource` \
                 (RFC 9728). Where DPoP is on, a `DPoP algs=\"...\"` challenge too, or only it \
                 (`error=\"invalid_dpop_proof\"` or `\"use_dpop_nonce\"`) for a refused proof.",
            ),
        )
        .header(
            "DPoP-Nonce",
            string_header("With server nonces on: the nonce to put in the next DPoP proof."),
        );
        ("Unauthorized", r.build().into())
    }
}

/// 429, with when to retry.
#[derive(Debug)]
pub struct TooManyRequests;

impl<'s> ToResponse<'s> for TooManyRequests {
    fn response() -> (&'s str, RefOr<utoipa::openapi::Response>) {
        let r = problem_response("Rate limited.").header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                ))
                .description(Some("Seconds to wait before retrying."))
                .build(),
        );
        ("TooManyRequests", r.build().into())
    }
}

// ---------------------------------------------------------------------------------------------

/// What every operation shares; see the module documentation.
#[derive(Debug)]
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert("Problem".into(), RefOr::T(problem_schema()));
        components.security_schemes.insert(
            BEARER.into(),
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from the configured issuer (Cognito or OIDC).",
                    ))
                    .build(),
            )
            .into(),
        );
        // `{"sub"|"user_id", "role"}`: a derive cannot say "exactly one of", so the derived
        // schema of `members::AddMember` is replaced by the precise one.
        components
            .schemas
            .insert("AddMember".into(), RefOr::T(add_member_schema()));
        // Every response, whatever produced it, carries the request id.
        let request_id = || {
            (
                "x-request-id".to_owned(),
                RefOr::T(string_header(
                    "The request's id (UUIDv7), also in logs and audit.",
                )),
            )
        };
        for response in components.responses.values_mut() {
            if let RefOr::T(r) = response {
                r.headers.extend([request_id()]);
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let authenticated = path.starts_with("/v1/");
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                apply(op, authenticated);
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = response {
                        r.headers.extend([request_id()]);
                    }
                }
            }
        }
    }
}

/// `members::AddMember`: exactly one of `sub` and `user_id` (the other absent or null), and
/// `role`; nothing else.
fn add_member_schema() -> Schema {
    let null = || ObjectBuilder::new().schema_type(Type::Null);
    let by = |name: &str, value: RefOr<Schema>, other: &str, description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .property(name, value)
            .property(other, null())
            .property("role", Ref::from_schema_name("Role"))
            .required(name)
            .required("role")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::<Schema>::FreeForm(false),
            ))
    };
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(by(
            "sub",
            ObjectBuilder::new().schema_type(Type::String).into(),
            "user_id",
            "By subject: a user of the caller's issuer, provisioned if never seen.",
        ))
        .item(by(
            "user_id",
            Ref::from_schema_name("UserId").into(),
            "sub",
            "By user id.",
        ))
        .description(Some(
            "Exactly one of `sub` and `user_id`, and the role to grant.",
        ))
        .into()
}

fn apply(op: &mut Operation, authenticated: bool) {
    let responses: &mut Responses = &mut op.responses;
    let mut add = |status: &str, name: &str| {
        responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    };
    if authenticated {
        add("401", "Unauthorized");
        add("429", "TooManyRequests");
    }
    add("500", "InternalError");
    add("503", "ServiceUnavailable");
    if authenticated {
        op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_3_1_with_problem_responses() {
        let v: serde_json::Value = serde_json::from_slice(&DOCUMENT).expect("the document is JSON");
        assert!(v["openapi"].as_str().is_some_and(|s| s.starts_with("3.1")));
        assert!(v["components"]["schemas"]["Problem"].is_object());
        let r = &v["components"]["responses"]["Unauthorized"];
        assert!(r["content"][PROBLEM_JSON].is_object(), "{r}");
        assert!(r["headers"]["WWW-Authenticate"].is_object(), "{r}");
    }

    #[test]
    fn problem_errors_name_a_pointer_or_a_parameter() {
        let v: serde_json::Value = serde_json::from_slice(&DOCUMENT).expect("the document is JSON");
        let errors = &v["components"]["schemas"]["Problem"]["properties"]["errors"];
        let shapes = errors["items"]["oneOf"].as_array().expect("oneOf");
        let required: Vec<_> = shapes.iter().map(|s| s["required"].clone()).collect();
        assert_eq!(
            required,
            [
                serde_json::json!(["pointer", "detail"]),
                serde_json::json!(["parameter", "detail"])
            ],
            "{errors}"
        );
    }
}
