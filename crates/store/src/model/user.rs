use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub issuer: String,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// What a verified token (or an admin adding a member by `sub`) tells us about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub issuer: String,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// `true` when the user is signing in now; `false` when an admin pre-provisions them, so a
    /// user who never signed in has no `last_seen_at`.
    pub seen: bool,
}

/// Result of the (issuer, sub) upsert: the one row, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub user: User,
    pub created: bool,
}
