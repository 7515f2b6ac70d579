//! Identities (one person signing in through several issuers) and org links (org roles taken
//! from a claim of the provider's token).

use crate::ids::{OrgId, UserId};
use crate::model::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One (issuer, sub) a user signs in with. Each belongs to exactly one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub issuer: String,
    pub sub: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
}

/// A token of `issuer` whose top-level claim `claim` holds `value` (as a string, or as one
/// string of an array) makes its user a member of `org_id` with `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgLink {
    pub org_id: OrgId,
    pub issuer: String,
    pub claim: String,
    pub value: String,
    pub role: Role,
    pub updated_at: DateTime<Utc>,
}

/// What a link is made of; (org, issuer, claim, value) names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrgLink {
    pub org_id: OrgId,
    pub issuer: String,
    pub claim: String,
    pub value: String,
    pub role: Role,
}

impl NewOrgLink {
    /// Ownership is only ever given by hand: a link that made owners could, when its claim
    /// went away, take an org's last owner with it.
    pub fn role_allowed(role: Role) -> bool {
        role != Role::Owner
    }
}

/// A membership a link made, changed or took away while applying a token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedChange {
    pub org_id: OrgId,
    /// `None`: the membership was removed.
    pub role: Option<Role>,
}
