//! The narrow traits a backend implements, one per aggregate, and `Store`, which is all of them.
//!
//! Every mutating call takes a [`ChangeContext`] and appends its audit row in the same
//! transaction as the change: if the audit insert fails, the change is rolled back.

use crate::context::ChangeContext;
use crate::error::StoreResult;
use crate::ids::{OrgId, ResourceId, UserId};
use crate::model::*;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The most ids one [`UserStore::get_users`] call takes: a page's worth, and far below what
/// either backend allows as parameters of one statement.
pub const MAX_USERS_PER_LOOKUP: usize = 500;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// The user holding the identity (issuer, sub), provisioned on first sight with one
    /// database-level upsert: concurrent first sightings all get the same row, and exactly one
    /// of them reports `created`. A linked identity resolves to the user it was linked to.
    async fn upsert_user(&self, user: &NewUser, at: DateTime<Utc>) -> StoreResult<Upserted>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The users among `ids` that exist, in no particular order, in one statement: for pages
    /// that name the actors of many rows. At most [`MAX_USERS_PER_LOOKUP`] ids; more is `Invalid`.
    async fn get_users(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// The user holding the identity (issuer, sub), whichever one they were created with.
    async fn find_user(&self, issuer: &str, sub: &str) -> StoreResult<Option<User>>;
    /// Disables (`true`) or re-enables (`false`) a user; audited as `user.disable`/`user.enable`.
    async fn set_user_disabled(
        &self,
        ctx: &ChangeContext,
        id: UserId,
        disabled: bool,
    ) -> StoreResult<User>;
    /// For operators looking someone up, newest first, at most `limit`: with `exact`, the users
    /// whose username, e-mail or sub is `text`; otherwise those whose username or e-mail starts
    /// with `text` (ignoring ASCII case) or whose sub is `text`. An empty `text` lists the newest.
    async fn search_users(&self, text: &str, exact: bool, limit: u32) -> StoreResult<Vec<User>>;
}

/// The identities a user signs in with, beyond the one they were created with.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Gives `user` one more (issuer, sub); audited as `identity.link`. `NotFound` for an
    /// unknown user, `Conflict` when the identity already belongs to a user (this one
    /// included). Nothing is ever linked implicitly (by e-mail or otherwise).
    async fn link_identity(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        issuer: &str,
        sub: &str,
    ) -> StoreResult<Identity>;
    /// Every identity of `user`, by issuer then sub.
    async fn identities_of_user(&self, user: UserId) -> StoreResult<Vec<Identity>>;
}

/// Org roles taken from claims of the provider's tokens.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Creates the link, or changes the role of the link with the same (org, issuer, claim,
    /// value); audited as `org.link`. `NotFound` unless the org is live; `Invalid` for an
    /// owner link (see [`NewOrgLink::role_allowed`]).
    async fn set_org_link(&self, ctx: &ChangeContext, link: &NewOrgLink) -> StoreResult<OrgLink>;
    /// The distinct claim names the links of `issuer` match on, sorted.
    async fn link_claim_names(&self, issuer: &str) -> StoreResult<Vec<String>>;
    /// The org's links, by issuer, claim, value.
    async fn list_org_links(&self, org: OrgId) -> StoreResult<Vec<OrgLink>>;
    /// Brings the memberships links made for `user` in line with a verified token of
    /// `issuer` whose top-level claims hold `claims` (name, value pairs): a member, with the
    /// strongest linked role, of every live org a link matches; no longer a member of an org
    /// whose links of this issuer no longer match. Memberships made by hand are never changed.
    /// Each change is audited (`membership.linked`, `membership.unlinked`); none is written
    /// when nothing changes.
    async fn apply_links(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        issuer: &str,
        claims: &[(&str, &str)],
    ) -> StoreResult<Vec<LinkedChange>>;
}

#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Creates the org and makes `ctx.actor` its owner.
    async fn create_org(&self, ctx: &ChangeContext, owner: UserId, name: &str) -> StoreResult<Org>;
    async fn get_org(&self, id: OrgId, include_deleted: bool) -> StoreResult<Option<Org>>;
    /// The live orgs `user` is a member of, by org id.
    async fn list_orgs_for_user(
        &self,
        user: UserId,
        page: &PageRequest,
    ) -> StoreResult<Page<OrgWithRole>>;
    /// Every live org, by id (platform admins' view).
    async fn list_orgs(&self, page: &PageRequest) -> StoreResult<Page<Org>>;
    async fn soft_delete_org(&self, ctx: &ChangeContext, id: OrgId) -> StoreResult<Org>;
    async fn restore_org(&self, ctx: &ChangeContext, id: OrgId) -> StoreResult<Org>;
    /// Removes orgs soft-deleted before `before`, with their memberships and resources.
    async fn purge_orgs(&self, ctx: &ChangeContext, before: DateTime<Utc>) -> StoreResult<u64>;
}

#[async_trait]
pub trait MembershipStore: Send + Sync {
    /// Adds `user` with `role`. Fails with `Conflict` if the user is already a member, and with
    /// `Forbidden` unless `by` may grant `role` (see [`Role::may_assign`]).
    async fn add_member(
        &self,
        ctx: &ChangeContext,
        by: MemberManager,
        org: OrgId,
        user: UserId,
        role: Role,
    ) -> StoreResult<Membership>;
    /// Changes a member's role. `by` must be allowed to manage both the member's current role
    /// and the new one (`Forbidden` otherwise); an org is never left without an owner
    /// (`Conflict`). Both rules are checked on rows read with the org locked.
    async fn set_member_role(
        &self,
        ctx: &ChangeContext,
        by: MemberManager,
        org: OrgId,
        user: UserId,
        role: Role,
    ) -> StoreResult<Membership>;
    /// Removes a member, under the same rules as [`MembershipStore::set_member_role`].
    async fn remove_member(
        &self,
        ctx: &ChangeContext,
        by: MemberManager,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<()>;
    async fn get_membership(&self, org: OrgId, user: UserId) -> StoreResult<Option<Membership>>;
    /// Members of a live org, by user id.
    async fn list_members(&self, org: OrgId, page: &PageRequest) -> StoreResult<Page<Member>>;
    /// Every live org the user belongs to, by org id (for `GET /v1/me` and the principal cache).
    async fn memberships_of_user(&self, user: UserId) -> StoreResult<Vec<MembershipSummary>>;
}

#[async_trait]
pub trait ResourceStore: Send + Sync {
    async fn create_resource(
        &self,
        ctx: &ChangeContext,
        new: &NewResource,
    ) -> StoreResult<Resource>;
    async fn get_resource(
        &self,
        org: OrgId,
        id: ResourceId,
        include_deleted: bool,
    ) -> StoreResult<Option<Resource>>;
    /// Resources of one org, by id.
    async fn list_resources(
        &self,
        org: OrgId,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Resource>>;
    /// Applies `patch` to a live resource. With `expected_version`, fails with
    /// `VersionMismatch` unless it is the current version (HTTP `If-Match`).
    async fn update_resource(
        &self,
        ctx: &ChangeContext,
        org: OrgId,
        id: ResourceId,
        patch: &ResourcePatch,
        expected_version: Option<i64>,
    ) -> StoreResult<Resource>;
    async fn soft_delete_resource(
        &self,
        ctx: &ChangeContext,
        org: OrgId,
        id: ResourceId,
    ) -> StoreResult<Resource>;
    async fn restore_resource(
        &self,
        ctx: &ChangeContext,
        org: OrgId,
        id: ResourceId,
    ) -> StoreResult<Resource>;
    /// Removes resources soft-deleted before `before`; one audit row per removed resource.
    async fn purge_resources(&self, ctx: &ChangeContext, before: DateTime<Utc>)
    -> StoreResult<u64>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an event that is not the side effect of another store call.
    async fn append_audit(&self, ctx: &ChangeContext, entry: &NewAuditEntry) -> StoreResult<()>;
    /// Newest first; the page key is `seq`.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<i64>,
    ) -> StoreResult<Page<AuditEntry, i64>>;
    /// Oldest first, strictly after `after_seq`: for export and chain verification.
    async fn audit_after(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}

#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Idempotent; audited as `session.revoke`.
    async fn revoke_token(&self, ctx: &ChangeContext, token: &RevokedToken) -> StoreResult<()>;
    /// Whether any of the given (kind, value) pairs is revoked and not yet expired at `now`.
    async fn is_revoked(
        &self,
        ids: &[(RevocationKind, &str)],
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Tokens of `user` issued before `before` are revoked. Only moves forward in time.
    async fn revoke_user_sessions(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        before: DateTime<Utc>,
    ) -> StoreResult<DateTime<Utc>>;
    async fn user_revoked_before(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>>;
    /// Drops token revocations whose tokens have expired; returns how many.
    async fn purge_expired_revocations(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Every token revocation still in force at `now`, to load an instance's in-memory view.
    async fn active_revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<RevokedToken>>;
    /// Every user's "revoked before" cutoff.
    async fn user_revocations(&self) -> StoreResult<Vec<(UserId, DateTime<Utc>)>>;
}

#[async_trait]
pub trait FlagStore: Send + Sync {
    /// Upserts the flag; audited as `flag.set` with the before/after value.
    async fn set_flag(
        &self,
        ctx: &ChangeContext,
        key: &FlagKey,
        value: &Value,
    ) -> StoreResult<Flag>;
    async fn get_flag(&self, key: &FlagKey) -> StoreResult<Option<Flag>>;
    /// All flags, global and per org, by name then org.
    async fn list_flags(&self) -> StoreResult<Vec<Flag>>;
}

/// The audit log read as the cluster's change feed. Rows are appended under the chain lock with
/// `seq` = previous + 1, so they commit in `seq` order: once `audit_head` has returned H, every
/// row up to H is visible and none below H can appear later. An instance that applied every
/// change up to H misses nothing by reading from H on.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// The newest `seq`, 0 for an empty log.
    async fn audit_head(&self) -> StoreResult<i64>;
    /// Rows with `after < seq <= up_to` that change who may do what (token and session
    /// revocations, user status, memberships, org deletions, flags), oldest first, at most
    /// `limit`.
    async fn security_changes(
        &self,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}

/// Liveness of the database and schema management.
#[async_trait]
pub trait Health: Send + Sync {
    /// A round trip to the database, bounded by the pool's acquire timeout.
    async fn ping(&self) -> StoreResult<()>;
    /// Which backend this is, for logs and `check-config`.
    fn backend(&self) -> &'static str;
}

/// Everything the server needs from a database.
pub trait Store:
    UserStore
    + IdentityStore
    + LinkStore
    + OrgStore
    + MembershipStore
    + ResourceStore
    + AuditStore
    + RevocationStore
    + FlagStore
    + ChangeFeed
    + Health
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: UserStore
        + IdentityStore
        + LinkStore
        + OrgStore
        + MembershipStore
        + ResourceStore
        + AuditStore
        + RevocationStore
        + FlagStore
        + ChangeFeed
        + Health
        + std::fmt::Debug
{
}
