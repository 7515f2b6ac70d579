//! Reading the audit trail: one org's (admins and owners), or the whole log (platform admins).
//! Newest first.

use crate::http::error::ApiError;
use crate::http::guard::{CanModerate, OrgAccess, PlatformAdmin};
use crate::http::input::Query;
use crate::http::page::{List, seq_list, seq_page};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use portcullis_store::{AuditEntry, AuditFilter, OrgId, UserId};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub resource_id: Option<String>,
    pub actor: Option<UserId>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page_size: Option<u32>,
    pub cursor: Option<String>,
    /// Global log only: one org's rows.
    pub org_id: Option<OrgId>,
}

async fn list(
    state: &AppState,
    org: Option<OrgId>,
    q: AuditQuery,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    let filter = AuditFilter {
        org_id: org,
        action: q.action,
        resource_id: q.resource_id,
        actor_id: q.actor,
        since: q.since,
        until: q.until,
    };
    // Bound to the filter, so a cursor cannot be replayed against another query.
    let scope = format!("audit:{filter:?}");
    let req = seq_page(q.page_size, q.cursor.as_deref(), &scope)?;
    let page = state.store.list_audit(&filter, &req).await?;
    Ok(Json(seq_list(page, &scope, |e| e)))
}

pub async fn for_org(
    State(state): State<AppState>,
    access: OrgAccess<CanModerate>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    if q.org_id.is_some() {
        return Err(ApiError::Unprocessable(
            "org_id is only a filter of the global log",
        ));
    }
    list(&state, Some(access.org), q).await
}

pub async fn global(
    State(state): State<AppState>,
    PlatformAdmin(_): PlatformAdmin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    let org = q.org_id;
    list(&state, org, q).await
}
