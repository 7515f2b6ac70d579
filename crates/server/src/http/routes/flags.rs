//! Runtime feature flags (platform admins only): the registry with each flag's default, global
//! value and per-org values, and setting one value. A change is audited by the store (`flag.set`
//! with the before and after value), applied on this instance at once and read by every other
//! instance from the database (`crate::cluster::sync`). See `crate::flags` and docs/sessions.md.

use crate::flags::registry::{self, FlagDef, FlagScope, FlagType};
use crate::http::change::context;
use crate::http::error::ApiError;
use crate::http::guard::PlatformAdmin;
use crate::http::input::{Body, invalid_field, rules};
use crate::http::openapi as doc;
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use portcullis_store::{Flag, FlagKey, OrgId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A stored value: global, or for one org.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagValue {
    /// Null for the global value.
    pub org_id: Option<OrgId>,
    pub value: Value,
    pub updated_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Flag> for FlagValue {
    fn from(f: &Flag) -> Self {
        Self {
            org_id: f.org_id,
            value: f.value.clone(),
            updated_by: f.updated_by,
            updated_at: f.updated_at,
        }
    }
}

/// One flag: what it is, and its values.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FlagType,
    pub scope: FlagScope,
    /// Inclusive bounds of an integer flag.
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub description: String,
    /// The built-in default, from the configuration.
    pub default: Value,
    /// The global override, if one is stored (a stored null is shown as none).
    pub global: Option<FlagValue>,
    /// What is in force outside any per-org override: the global override, else the default.
    pub effective: Value,
    /// Per-org overrides (flags of scope `global_and_org`), by org id.
    pub orgs: Vec<FlagValue>,
}

/// Every flag of the registry, by name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagList {
    pub items: Vec<FlagView>,
    /// Always null: the registry is one page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

fn view(state: &AppState, def: &FlagDef, rows: &[Flag]) -> FlagView {
    let mine: Vec<&Flag> = rows
        .iter()
        .filter(|f| f.name == def.name && !f.value.is_null())
        .collect();
    let effective = state.flags.effective(rows).global_json(def.name);
    FlagView {
        name: def.name.to_owned(),
        ty: def.ty,
        scope: def.scope,
        minimum: def.range.map(|r| r.0),
        maximum: def.range.map(|r| r.1),
        description: def.description.to_owned(),
        default: state.flags.defaults().global_json(def.name),
        global: mine
            .iter()
            .find(|f| f.org_id.is_none())
            .map(|f| FlagValue::from(*f)),
        effective,
        orgs: if def.scope == FlagScope::GlobalAndOrg {
            mine.iter()
                .filter(|f| f.org_id.is_some())
                .map(|f| FlagValue::from(*f))
                .collect()
        } else {
            Vec::new()
        },
    }
}

#[utoipa::path(get, path = "/v1/admin/flags", tag = "flags",
    responses(
        (status = 200, description = "Every runtime flag with its default, global value and per-org values (platform admins only).", body = FlagList),
        (status = 403, response = doc::Forbidden),
    ))]
pub async fn list(
    State(state): State<AppState>,
    PlatformAdmin(_): PlatformAdmin,
) -> Result<Json<FlagList>, ApiError> {
    let rows = state.store.list_flags().await?;
    let items = registry::REGISTRY
        .iter()
        .map(|def| view(&state, def, &rows))
        .collect();
    Ok(Json(FlagList {
        items,
        next_cursor: None,
    }))
}

/// `value` of the flag's type, or null to remove the override; `org_id` for a per-org value.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFlag {
    pub value: Value,
    pub org_id: Option<OrgId>,
}

rules!(SetFlag {
    value: "must be of the flag's type and within its bounds (see GET /v1/admin/flags), or null",
    org_id: "must be an org id (a UUID), or null for the global value",
});

#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FlagParams {
    /// The flag's name, e.g. `mfa.required`.
    pub name: String,
}

/// `{name}` of the flag routes.
#[derive(Debug)]
pub struct FlagName(pub String);

impl<S: Send + Sync> FromRequestParts<S> for FlagName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        crate::http::input::path_param(parts, "name")
            .await
            .map(FlagName)
    }
}

#[utoipa::path(put, path = "/v1/admin/flags/{name}", tag = "flags", params(FlagParams), request_body = SetFlag,
    responses(
        (status = 200, description = "Set; in force on every instance within a second. The flag as now stored.", body = FlagView),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn set(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    FlagName(name): FlagName,
    Body(body): Body<SetFlag>,
) -> Result<Json<FlagView>, ApiError> {
    let def = registry::lookup(&name).ok_or(ApiError::NotFound)?;
    let value = state
        .flags
        .check(def, body.org_id, &body.value)
        .map_err(|why| match def.scope {
            FlagScope::Global if body.org_id.is_some() => invalid_field("/org_id", why),
            _ => invalid_field("/value", why),
        })?;
    if let Some(org) = body.org_id
        && state.store.get_org(org, false).await?.is_none()
    {
        return Err(invalid_field("/org_id", "must name a live org"));
    }
    let key = FlagKey {
        name: def.name.to_owned(),
        org_id: body.org_id,
    };
    state
        .store
        .set_flag(&context(&state, &admin), &key, &value)
        .await?;
    // In force here before the response; the other instances read it within a sync interval.
    state.changes.committed().await;
    let rows = state.store.list_flags().await?;
    Ok(Json(view(&state, def, &rows)))
}
