use crate::ids::{OrgId, UserId};
use crate::model::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A membership as listed on an org, with enough of the user to show who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// One of a user's memberships, as `GET /v1/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipSummary {
    pub org_id: OrgId,
    pub org_name: String,
    pub role: Role,
}

/// Who is changing an org's memberships. The store reads that caller's role in the same
/// transaction, with the org locked, as the change it decides on, so the decision never rests
/// on a role read earlier (which a concurrent change may have made stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberManager {
    /// A platform admin: may grant and take away every role, member of the org or not.
    PlatformAdmin,
    /// A member of the org, with whatever role they hold there when the change is made.
    Member(UserId),
}
