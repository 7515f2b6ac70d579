//! Organizations: create (the caller becomes owner), list mine, read, soft delete, restore.

use crate::http::change::context;
use crate::http::cursor::Scope;
use crate::http::error::ApiError;
use crate::http::extract::CallerPrincipal;
use crate::http::guard::{CanOwn, CanRead, OrgAccess, PlatformAdmin};
use crate::http::input::{Body, Query, invalid_field, path_param, rules};
use crate::http::openapi as doc;
use crate::http::page::{List, id_list, id_page};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use portcullis_store::{Org, OrgId, OrgWithRole, Role, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: OrgId,
    pub name: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<UserId>,
    /// The caller's role, in lists of the caller's orgs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

impl From<Org> for OrgView {
    fn from(o: Org) -> Self {
        Self {
            id: o.id,
            name: o.name,
            created_by: o.created_by,
            created_at: o.created_at,
            deleted_at: o.deleted_at,
            deleted_by: o.deleted_by,
            role: None,
        }
    }
}

impl From<OrgWithRole> for OrgView {
    fn from(o: OrgWithRole) -> Self {
        Self {
            role: Some(o.role),
            ..o.org.into()
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// 1 to 200 characters, not only whitespace, no NUL.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

rules!(NewOrg { name: rules::NAME });

#[utoipa::path(post, path = "/v1/orgs", tag = "orgs", request_body = NewOrg,
    responses(
        (status = 201, description = "Created; the caller is its owner.", body = OrgView),
        (status = 400, response = doc::BadRequest),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn create(
    State(state): State<AppState>,
    CallerPrincipal(me): CallerPrincipal,
    Body(new): Body<NewOrg>,
) -> Result<(StatusCode, Json<OrgView>), ApiError> {
    portcullis_store::validate::name(&new.name).map_err(|_| invalid_field("/name", rules::NAME))?;
    let org = state
        .store
        .create_org(&context(&state, &me), me.user_id(), &new.name)
        .await?;
    state.changes.committed().await;
    let mut view = OrgView::from(org);
    view.role = Some(Role::Owner);
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListOrgs {
    /// Items per page, 1 to 100 (default 20); anything else is 422.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

rules!(ListOrgs {
    page_size: rules::PAGE_SIZE,
    cursor: rules::CURSOR,
});

#[utoipa::path(get, path = "/v1/orgs", tag = "orgs", params(ListOrgs),
    responses(
        (status = 200, description = "The caller's orgs, with the caller's role in each.", body = doc::OrgList),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn list_mine(
    State(state): State<AppState>,
    CallerPrincipal(me): CallerPrincipal,
    Query(q): Query<ListOrgs>,
) -> Result<Json<List<OrgView>>, ApiError> {
    let scope = Scope::orgs(me.user_id());
    let req = id_page(q.page_size, q.cursor.as_deref(), &scope)?;
    let page = state.store.list_orgs_for_user(me.user_id(), &req).await?;
    Ok(Json(id_list(page, &scope, OrgView::from)))
}

#[utoipa::path(get, path = "/v1/orgs/{org_id}", tag = "orgs", params(doc::OrgParams),
    responses(
        (status = 200, description = "The org (`role` is the caller's, absent for a platform admin who is not a member).", body = OrgView),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn get(
    State(state): State<AppState>,
    access: OrgAccess<CanRead>,
) -> Result<Json<OrgView>, ApiError> {
    let org = state
        .store
        .get_org(access.org, false)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut view = OrgView::from(org);
    view.role = access.role;
    Ok(Json(view))
}

#[utoipa::path(delete, path = "/v1/orgs/{org_id}", tag = "orgs", params(doc::OrgParams),
    responses(
        (status = 204, description = "Soft-deleted (owners and platform admins)."),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    access: OrgAccess<CanOwn>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .soft_delete_org(&context(&state, &access.principal), access.org)
        .await?;
    // Every member's list of orgs changed.
    state.changes.committed().await;
    Ok(StatusCode::NO_CONTENT)
}

/// `{org_id}` of a route that does not go through the org guard (deleted orgs).
#[derive(Debug, Clone, Copy)]
pub struct OrgPath(pub OrgId);

impl<S: Send + Sync> FromRequestParts<S> for OrgPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_param(parts, "org_id").await.map(OrgPath)
    }
}

/// Deleted orgs are invisible to their former members, so only platform admins restore them.
/// The org's MFA policy applies as on every org route: this one skips the org guard (the org
/// is deleted), so the handler applies it itself.
#[utoipa::path(post, path = "/v1/orgs/{org_id}/restore", tag = "orgs", params(doc::OrgParams),
    responses(
        (status = 200, description = "Restored (platform admins only).", body = OrgView),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn restore(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    OrgPath(org): OrgPath,
) -> Result<Json<OrgView>, ApiError> {
    crate::access::mfa::enforce_org(&state, &admin, org, admin.role_in(org))?;
    let org = state
        .store
        .restore_org(&context(&state, &admin), org)
        .await?;
    state.changes.committed().await;
    Ok(Json(org.into()))
}
