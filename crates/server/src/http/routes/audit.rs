//! Reading the audit trail: one org's (admins and owners), or the whole log (platform admins).
//! Newest first.

use crate::http::cursor::Scope;
use crate::http::error::ApiError;
use crate::http::guard::{CanModerate, OrgAccess, PlatformAdmin};
use crate::http::input::{Query, invalid_parameter, rules};
use crate::http::openapi as doc;
use crate::http::page::{List, seq_list, seq_page};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use portcullis_store::{AuditEntry, AuditFilter, OrgId, UserId};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries with this action, e.g. `resource.update`.
    pub action: Option<String>,
    /// Only entries about this object.
    pub resource_id: Option<String>,
    /// Only entries by this user.
    pub actor: Option<UserId>,
    /// Only entries at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 20); anything else is 422.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Global log only: one org's rows.
    pub org_id: Option<OrgId>,
}

rules!(AuditQuery {
    action: rules::TEXT,
    resource_id: rules::TEXT,
    actor: rules::USER_ID,
    since: rules::TIME,
    until: rules::TIME,
    page_size: rules::PAGE_SIZE,
    cursor: rules::CURSOR,
    org_id: rules::ORG_ID,
});

/// The query parameters of the org log: those of [`AuditQuery`] but `org_id`.
#[derive(Debug)]
pub struct OrgAuditQuery;

impl utoipa::IntoParams for OrgAuditQuery {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut params = AuditQuery::into_params(parameter_in_provider);
        params.retain(|p| p.name != "org_id");
        params
    }
}

async fn list(
    state: &AppState,
    org: Option<OrgId>,
    q: AuditQuery,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    // PostgreSQL cannot compare text holding NUL; no stored action or object id holds one.
    for (name, value) in [("action", &q.action), ("resource_id", &q.resource_id)] {
        if value
            .as_deref()
            .is_some_and(|v| portcullis_store::validate::text(v).is_err())
        {
            return Err(invalid_parameter(name, rules::TEXT));
        }
    }
    let filter = AuditFilter {
        org_id: org,
        action: q.action,
        resource_id: q.resource_id,
        actor_id: q.actor,
        since: q.since,
        until: q.until,
    };
    let scope = Scope::audit(&filter);
    let req =
        seq_page(q.page_size, q.cursor.as_deref(), &scope)?.with_max_bytes(state.page_max_bytes);
    let page = state.store.list_audit(&filter, &req).await?;
    Ok(Json(seq_list(page, &scope, |e| e)))
}

#[utoipa::path(get, path = "/v1/orgs/{org_id}/audit", tag = "audit", params(doc::OrgParams, OrgAuditQuery),
    responses(
        (status = 200, description = "The org's audit entries, newest first (admins, owners and platform admins).", body = doc::AuditList),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn for_org(
    State(state): State<AppState>,
    access: OrgAccess<CanModerate>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    if q.org_id.is_some() {
        return Err(invalid_parameter(
            "org_id",
            "is only a filter of the global log (/v1/admin/audit)",
        ));
    }
    list(&state, Some(access.org), q).await
}

#[utoipa::path(get, path = "/v1/admin/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "The whole audit log, newest first (platform admins only).", body = doc::AuditList),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn global(
    State(state): State<AppState>,
    PlatformAdmin(_): PlatformAdmin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    let org = q.org_id;
    list(&state, org, q).await
}
