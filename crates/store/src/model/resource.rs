use crate::ids::{OrgId, ResourceId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resource {
    pub id: ResourceId,
    pub org_id: OrgId,
    pub owner_id: UserId,
    pub kind: String,
    pub name: String,
    pub data: Value,
    /// Starts at 1 and grows by one on every change (update, delete, restore); sent as the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewResource {
    pub org_id: OrgId,
    pub owner_id: UserId,
    pub kind: String,
    pub name: String,
    pub data: Value,
}

/// Fields a PATCH may change; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourcePatch {
    pub name: Option<String>,
    pub data: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    pub kind: Option<String>,
    pub owner_id: Option<UserId>,
    pub include_deleted: bool,
}
