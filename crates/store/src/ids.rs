//! Typed ids: a resource id can never be passed where an org id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A new UUIDv7: time-ordered, so keyset pagination by id is also creation order.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(new_id())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A user, unique per (issuer, sub).
    UserId
);
id_type!(
    /// An organization (tenant).
    OrgId
);
id_type!(
    /// An org-scoped resource.
    ResourceId
);
id_type!(
    /// One row of the audit log.
    AuditId
);
