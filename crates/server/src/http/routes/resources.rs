//! Org-scoped resources: create, list (by kind, optionally with deleted ones for moderators),
//! read, patch with optimistic concurrency (`If-Match` against the version, which is also the
//! `ETag`), soft delete, restore. Members change their own resources; admins anyone's.

use crate::cluster::bus::ResourceAction;
use crate::http::change::context;
use crate::http::cursor::Scope;
use crate::http::error::ApiError;
use crate::http::guard::{CanModerate, CanRead, CanWriteOwn, OrgAccess};
use crate::http::input::{Body, Query, ResourcePath, invalid_parameter, rules};
use crate::http::openapi as doc;
use crate::http::page::{List, id_list, id_page};
use crate::http::problem::FieldError;
use crate::rbac::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portcullis_store::{NewResource, Resource, ResourceFilter, ResourcePatch};
use serde::Deserialize;
use serde_json::Value;

/// A resource with its version as a strong ETag.
fn with_etag(status: StatusCode, r: Resource) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", r.version)).ok();
    let mut res = (status, Json(r)).into_response();
    if let Some(etag) = etag {
        res.headers_mut().insert(ETAG, etag);
    }
    res
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListResources {
    /// Only resources of this kind.
    pub kind: Option<String>,
    /// Items per page, 1 to 100 (default 20); anything else is 422.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Include soft-deleted resources (admins, owners and platform admins; else 403).
    #[serde(default)]
    pub include_deleted: bool,
}

rules!(ListResources {
    kind: rules::TEXT,
    page_size: rules::PAGE_SIZE,
    cursor: rules::CURSOR,
    include_deleted: "must be true or false",
});

#[utoipa::path(get, path = "/v1/orgs/{org_id}/resources", tag = "resources", params(doc::OrgParams, ListResources),
    responses(
        (status = 200, description = "The org's resources, oldest first.", body = doc::ResourceList),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn list(
    State(state): State<AppState>,
    access: OrgAccess<CanRead>,
    Query(q): Query<ListResources>,
) -> Result<Json<List<Resource>>, ApiError> {
    if let Some(kind) = &q.kind {
        // PostgreSQL cannot compare text holding NUL; no stored kind holds one anyway.
        portcullis_store::validate::text(kind)
            .map_err(|_| invalid_parameter("kind", rules::TEXT))?;
    }
    if q.include_deleted && !access.may(Action::Moderate) {
        return Err(ApiError::Forbidden);
    }
    let scope = Scope::resources(access.org, q.kind.as_deref(), q.include_deleted);
    let req =
        id_page(q.page_size, q.cursor.as_deref(), &scope)?.with_max_bytes(state.page_max_bytes);
    let filter = ResourceFilter {
        kind: q.kind,
        owner_id: None,
        include_deleted: q.include_deleted,
    };
    let page = state
        .store
        .list_resources(access.org, &filter, &req)
        .await?;
    Ok(Json(id_list(page, &scope, |r| r)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResourceBody {
    /// 1 to 64 of a-z, 0-9, `_`, `.`, `-`.
    #[schema(pattern = "^[a-z0-9_.-]{1,64}$")]
    pub kind: String,
    /// 1 to 200 characters, not only whitespace, no NUL.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Any JSON (no NUL in strings or keys, at most 512 KiB); absent or null is `{}`.
    #[serde(default)]
    pub data: Value,
}

rules!(NewResourceBody {
    kind: rules::KIND,
    name: rules::NAME,
    data: rules::DATA,
});

#[utoipa::path(post, path = "/v1/orgs/{org_id}/resources", tag = "resources", params(doc::OrgParams), request_body = NewResourceBody,
    responses(
        (status = 201, description = "Created; the caller owns it.", body = Resource, headers(("ETag" = String, description = "The resource's `version` as a strong entity tag, e.g. `\"3\"`."))),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn create(
    State(state): State<AppState>,
    access: OrgAccess<CanWriteOwn>,
    Body(body): Body<NewResourceBody>,
) -> Result<Response, ApiError> {
    checked(Some(&body.kind), Some(&body.name), Some(&body.data))?;
    let new = NewResource {
        org_id: access.org,
        owner_id: access.principal.user_id(),
        kind: body.kind,
        name: body.name,
        data: if body.data.is_null() {
            Value::Object(Default::default())
        } else {
            body.data
        },
    };
    let r = state
        .store
        .create_resource(&context(&state, &access.principal), &new)
        .await?;
    state.changes.resource(&r, ResourceAction::Created).await;
    Ok(with_etag(StatusCode::CREATED, r))
}

#[utoipa::path(get, path = "/v1/orgs/{org_id}/resources/{id}", tag = "resources", params(doc::ResourceParams),
    responses(
        (status = 200, description = "The resource.", body = Resource, headers(("ETag" = String, description = "The resource's `version` as a strong entity tag, e.g. `\"3\"`."))),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn get(
    State(state): State<AppState>,
    access: OrgAccess<CanRead>,
    ResourcePath(id): ResourcePath,
) -> Result<Response, ApiError> {
    let r = state
        .store
        .get_resource(access.org, id, false)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(with_etag(StatusCode::OK, r))
}

/// The live resource, if the caller may change it: their own with `WriteOwn`, anyone's with
/// `Moderate`.
async fn changeable(
    state: &AppState,
    access: &OrgAccess<CanWriteOwn>,
    id: portcullis_store::ResourceId,
) -> Result<Resource, ApiError> {
    let r = state
        .store
        .get_resource(access.org, id, false)
        .await?
        .ok_or(ApiError::NotFound)?;
    if r.owner_id != access.principal.user_id() && !access.may(Action::Moderate) {
        return Err(ApiError::Forbidden);
    }
    Ok(r)
}

/// Absent or null fields are left as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub data: Option<Value>,
}

rules!(PatchBody {
    name: rules::NAME,
    data: rules::DATA,
});

/// The store's rules for a resource's fields, checked here to name each field at fault (the
/// store would refuse the same values, without saying which field).
fn checked(kind: Option<&str>, name: Option<&str>, data: Option<&Value>) -> Result<(), ApiError> {
    use portcullis_store::validate;
    let mut errors = Vec::new();
    if kind.is_some_and(|k| validate::kind(k).is_err()) {
        errors.push(FieldError::pointer("/kind", rules::KIND));
    }
    if name.is_some_and(|n| validate::name(n).is_err()) {
        errors.push(FieldError::pointer("/name", rules::NAME));
    }
    if data.is_some_and(|d| validate::data(d).is_err()) {
        errors.push(FieldError::pointer("/data", rules::DATA));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// `If-Match: "3"` (or `*`); a list or a weak tag cannot name one version and is refused.
fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| bad_if_match())?.trim();
    if text == "*" {
        return Ok(None);
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(bad_if_match)
}

fn bad_if_match() -> ApiError {
    ApiError::Malformed(vec![FieldError::parameter(
        "If-Match",
        "must be one strong entity tag, such as \"3\", or *",
    )])
}

#[utoipa::path(patch, path = "/v1/orgs/{org_id}/resources/{id}", tag = "resources",
    params(
        doc::ResourceParams,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` (the ETag) or `*`; a stale version is 412."),
    ),
    request_body = PatchBody,
    responses(
        (status = 200, description = "The changed resource (members: their own; admins: any).", body = Resource, headers(("ETag" = String, description = "The resource's `version` as a strong entity tag, e.g. `\"3\"`."))),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 412, response = doc::PreconditionFailed),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    access: OrgAccess<CanWriteOwn>,
    ResourcePath(id): ResourcePath,
    headers: HeaderMap,
    Body(body): Body<PatchBody>,
) -> Result<Response, ApiError> {
    let expected = expected_version(&headers)?;
    changeable(&state, &access, id).await?;
    checked(None, body.name.as_deref(), body.data.as_ref())?;
    let patch = ResourcePatch {
        name: body.name,
        data: body.data,
    };
    let r = state
        .store
        .update_resource(
            &context(&state, &access.principal),
            access.org,
            id,
            &patch,
            expected,
        )
        .await?;
    state.changes.resource(&r, ResourceAction::Updated).await;
    Ok(with_etag(StatusCode::OK, r))
}

#[utoipa::path(delete, path = "/v1/orgs/{org_id}/resources/{id}", tag = "resources", params(doc::ResourceParams),
    responses(
        (status = 204, description = "Soft-deleted (members: their own; admins: any)."),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    access: OrgAccess<CanWriteOwn>,
    ResourcePath(id): ResourcePath,
) -> Result<StatusCode, ApiError> {
    changeable(&state, &access, id).await?;
    let r = state
        .store
        .soft_delete_resource(&context(&state, &access.principal), access.org, id)
        .await?;
    state.changes.resource(&r, ResourceAction::Deleted).await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/orgs/{org_id}/resources/{id}/restore", tag = "resources", params(doc::ResourceParams),
    responses(
        (status = 200, description = "Restored (admins, owners and platform admins).", body = Resource, headers(("ETag" = String, description = "The resource's `version` as a strong entity tag, e.g. `\"3\"`."))),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn restore(
    State(state): State<AppState>,
    access: OrgAccess<CanModerate>,
    ResourcePath(id): ResourcePath,
) -> Result<Response, ApiError> {
    let r = state
        .store
        .restore_resource(&context(&state, &access.principal), access.org, id)
        .await?;
    state.changes.resource(&r, ResourceAction::Restored).await;
    Ok(with_etag(StatusCode::OK, r))
}
