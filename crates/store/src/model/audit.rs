use crate::ids::{AuditId, OrgId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// One row of the append-only, hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the hash chain: 1, 2, 3, ... with no gaps.
    pub seq: i64,
    pub id: AuditId,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub org_id: Option<OrgId>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub changes: Value,
    pub request_id: String,
    /// Hex SHA-256 of the previous row (64 zeros for the first row).
    pub prev_hash: String,
    /// Hex SHA-256 over this row's fields and `prev_hash`.
    pub hash: String,
}

/// An audit event that is not the side effect of another store call (a revocation by jti, say).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub org_id: Option<OrgId>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub changes: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// `None` lists the whole log (platform admins only).
    pub org_id: Option<OrgId>,
    pub action: Option<String>,
    pub resource_id: Option<String>,
    pub actor_id: Option<UserId>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}
