use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// A flag is global (`org_id == None`) or overrides the global value for one org.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlagKey {
    pub name: String,
    pub org_id: Option<OrgId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub name: String,
    pub org_id: Option<OrgId>,
    pub value: Value,
    pub updated_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}
