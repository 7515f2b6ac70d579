//! Memberships: list, add (by `sub`, pre-provisioning users who never signed in, or by
//! `user_id`), change role, remove. Admins manage the roles below their own; only owners
//! (and platform admins) grant or take away ownership.
//!
//! Whether the caller may make a change is decided by the store, on the caller's and the
//! target's roles as they are inside the write transaction with the org locked: a decision
//! taken here on earlier reads could rest on a role that a concurrent change has replaced.

use crate::http::change::context;
use crate::http::cursor::Scope;
use crate::http::error::ApiError;
use crate::http::guard::{CanManageMembers, CanRead, OrgAccess};
use crate::http::input::{Body, Query, UserPath, invalid_field, rules};
use crate::http::openapi as doc;
use crate::http::page::{List, id_list, id_page};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use portcullis_store::{Member, MemberManager, NewUser, Role, User, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: UserId,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl MemberView {
    /// A membership as just written, with the user it belongs to.
    fn of(user: User, m: &portcullis_store::Membership) -> Self {
        Self {
            user_id: user.id,
            sub: user.sub,
            username: user.username,
            email: user.email,
            role: m.role,
            created_at: m.created_at,
        }
    }
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            sub: m.sub,
            username: m.username,
            email: m.email,
            role: m.role,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListMembers {
    /// Items per page, 1 to 100 (default 20); anything else is 422.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

rules!(ListMembers {
    page_size: rules::PAGE_SIZE,
    cursor: rules::CURSOR,
});

#[utoipa::path(get, path = "/v1/orgs/{org_id}/members", tag = "members", params(doc::OrgParams, ListMembers),
    responses(
        (status = 200, description = "The org's members.", body = doc::MemberList),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn list(
    State(state): State<AppState>,
    access: OrgAccess<CanRead>,
    Query(q): Query<ListMembers>,
) -> Result<Json<List<MemberView>>, ApiError> {
    let scope = Scope::members(access.org);
    let req = id_page(q.page_size, q.cursor.as_deref(), &scope)?;
    let page = state.store.list_members(access.org, &req).await?;
    Ok(Json(id_list(page, &scope, MemberView::from)))
}

/// Exactly one of `sub` (a user of the caller's issuer, provisioned if never seen; at most 255
/// bytes) and `user_id`. While `jit.provisioning` is off, only platform admins provision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub sub: Option<String>,
    pub user_id: Option<UserId>,
    pub role: Role,
}

rules!(AddMember {
    sub: rules::SUB,
    user_id: rules::USER_ID,
    role: rules::ROLE,
});

#[utoipa::path(post, path = "/v1/orgs/{org_id}/members", tag = "members", params(doc::OrgParams), request_body = AddMember,
    responses(
        (status = 201, description = "Added.", body = MemberView),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn add(
    State(state): State<AppState>,
    access: OrgAccess<CanManageMembers>,
    Body(add): Body<AddMember>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    // Refused before a user row is provisioned for nothing; the store decides again, on the
    // caller's role as it is when the membership is written.
    if !access.may_assign(add.role) {
        return Err(ApiError::Forbidden);
    }
    let now = state.clock.now();
    let user: User = match (add.sub, add.user_id) {
        (Some(sub), None) => {
            portcullis_store::validate::sub(&sub).map_err(|_| invalid_field("/sub", rules::SUB))?;
            // Same issuer as the caller: a sub only names a user together with its issuer.
            let issuer = &access.principal.token.claims.iss;
            if state.flags.jit_provisioning() || access.principal.platform_admin {
                let new = NewUser {
                    issuer: issuer.to_string(),
                    sub,
                    username: None,
                    email: None,
                    seen: false,
                };
                let upserted = state.store.upsert_user(&new, now).await?;
                // Not a first sight of a token's subject: an existing row is no race here.
                crate::metrics::user_upserted(&upserted, now, false);
                upserted.user
            } else {
                // Sign-up is closed: creating a user row is what would let a new subject in, and
                // anyone may create an org to be its owner, so only platform admins do that.
                state
                    .store
                    .find_user(issuer, &sub)
                    .await?
                    .ok_or(ApiError::ForbiddenBy(
                        "While sign-up is closed (jit.provisioning is off), only platform admins may pre-provision users who have never signed in.",
                    ))?
            }
        }
        (None, Some(id)) => state
            .store
            .get_user(id)
            .await?
            .ok_or_else(|| invalid_field("/user_id", "must name an existing user"))?,
        (Some(_), Some(_)) => {
            return Err(invalid_field(
                "/user_id",
                "must not be given together with sub",
            ));
        }
        (None, None) => {
            return Err(invalid_field("", "must have one of sub and user_id"));
        }
    };
    let m = state
        .store
        .add_member(
            &context(&state, &access.principal),
            manager(&access),
            access.org,
            user.id,
            add.role,
        )
        .await?;
    state.changes.committed().await;
    Ok((StatusCode::CREATED, Json(MemberView::of(user, &m))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: Role,
}

rules!(ChangeRole { role: rules::ROLE });

/// The caller, as the store judges membership changes.
fn manager(access: &OrgAccess<CanManageMembers>) -> MemberManager {
    if access.principal.platform_admin {
        MemberManager::PlatformAdmin
    } else {
        MemberManager::Member(access.principal.user_id())
    }
}

/// The user a membership change was about, to show it and to drop their cached roles.
async fn target(state: &AppState, user: UserId) -> Result<User, ApiError> {
    state
        .store
        .get_user(user)
        .await?
        .ok_or_else(|| ApiError::internal("a member's user row is missing"))
}

#[utoipa::path(patch, path = "/v1/orgs/{org_id}/members/{user_id}", tag = "members", params(doc::MemberParams), request_body = ChangeRole,
    responses(
        (status = 200, description = "The member with the new role.", body = MemberView),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn change_role(
    State(state): State<AppState>,
    access: OrgAccess<CanManageMembers>,
    UserPath(user): UserPath,
    Body(change): Body<ChangeRole>,
) -> Result<Json<MemberView>, ApiError> {
    let m = state
        .store
        .set_member_role(
            &context(&state, &access.principal),
            manager(&access),
            access.org,
            user,
            change.role,
        )
        .await?;
    let target = target(&state, user).await?;
    state.changes.committed().await;
    Ok(Json(MemberView::of(target, &m)))
}

#[utoipa::path(delete, path = "/v1/orgs/{org_id}/members/{user_id}", tag = "members", params(doc::MemberParams),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    access: OrgAccess<CanManageMembers>,
    UserPath(user): UserPath,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .remove_member(
            &context(&state, &access.principal),
            manager(&access),
            access.org,
            user,
        )
        .await?;
    state.changes.committed().await;
    Ok(StatusCode::NO_CONTENT)
}
