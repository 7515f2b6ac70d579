use crate::ids::{OrgId, UserId};
use crate::model::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<UserId>,
}

/// An org as listed for one user, with that user's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgWithRole {
    pub org: Org,
    pub role: Role,
}
