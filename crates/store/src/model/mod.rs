//! The rows of the data model, as the rest of Portcullis sees them.

mod audit;
mod flag;
mod link;
mod membership;
mod org;
mod resource;
mod revocation;
mod role;
mod user;

pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use flag::{Flag, FlagKey};
pub use link::{Identity, LinkedChange, NewOrgLink, OrgLink};
pub use membership::{Member, MemberManager, Membership, MembershipSummary};
pub use org::{Org, OrgWithRole};
pub use resource::{NewResource, Resource, ResourceFilter, ResourcePatch};
pub use revocation::{RevocationKind, RevokedToken};
pub use role::{Role, UnknownRole};
pub use user::{NewUser, Upserted, User};
