//! Memberships: list, add (by `sub`, pre-provisioning users who never signed in, or by
//! `user_id`), change role, remove. Admins manage the roles below their own; only owners
//! (and platform admins) grant or take away ownership.

use crate::http::change::context;
use crate::http::error::ApiError;
use crate::http::guard::{CanManageMembers, CanRead, OrgAccess};
use crate::http::input::{Body, Query, UserPath};
use crate::http::page::{List, id_list, id_page};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use portcullis_store::{Member, NewUser, Role, User, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub user_id: UserId,
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMembers {
    pub page_size: Option<u32>,
    pub cursor: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    access: OrgAccess<CanRead>,
    Query(q): Query<ListMembers>,
) -> Result<Json<List<MemberView>>, ApiError> {
    let scope = format!("members:{}", access.org);
    let req = id_page(q.page_size, q.cursor.as_deref(), &scope)?;
    let page = state.store.list_members(access.org, &req).await?;
    Ok(Json(id_list(page, &scope, MemberView::from)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub sub: Option<String>,
    pub user_id: Option<UserId>,
    pub role: Role,
}

pub async fn add(
    State(state): State<AppState>,
    access: OrgAccess<CanManageMembers>,
    Body(add): Body<AddMember>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    if !access.may_assign(add.role) {
        return Err(ApiError::Forbidden);
    }
    let now = state.clock.now();
    let user: User = match (add.sub, add.user_id) {
        (Some(sub), None) => {
            // Same issuer as the caller: a sub only names a user together with its issuer.
            let new = NewUser {
                issuer: access.principal.token.claims.iss.clone(),
                sub,
                username: None,
                email: None,
                seen: false,
            };
            state.store.upsert_user(&new, now).await?.user
        }
        (None, Some(id)) => state
            .store
            .get_user(id)
            .await?
            .ok_or(ApiError::Unprocessable("no such user"))?,
        _ => {
            return Err(ApiError::Unprocessable(
                "give exactly one of sub and user_id",
            ));
        }
    };
    let m = state
        .store
        .add_member(
            &context(&state, &access.principal),
            access.org,
            user.id,
            add.role,
        )
        .await?;
    state.principals.forget_user(&user).await;
    Ok((
        StatusCode::CREATED,
        Json(MemberView {
            user_id: user.id,
            sub: user.sub,
            username: user.username,
            email: user.email,
            role: m.role,
            created_at: m.created_at,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: Role,
}

/// The target's current role, after checking the caller may manage it at all.
async fn manageable(
    state: &AppState,
    access: &OrgAccess<CanManageMembers>,
    user: UserId,
) -> Result<(User, Role), ApiError> {
    let current = state
        .store
        .get_membership(access.org, user)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !access.may_assign(current.role) {
        return Err(ApiError::Forbidden);
    }
    let user = state
        .store
        .get_user(user)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((user, current.role))
}

pub async fn change_role(
    State(state): State<AppState>,
    access: OrgAccess<CanManageMembers>,
    UserPath(user): UserPath,
    Body(change): Body<ChangeRole>,
) -> Result<Json<MemberView>, ApiError> {
    let (target, _) = manageable(&state, &access, user).await?;
    if !access.may_assign(change.role) {
        return Err(ApiError::Forbidden);
    }
    let m = state
        .store
        .set_member_role(
            &context(&state, &access.principal),
            access.org,
            user,
            change.role,
        )
        .await?;
    state.principals.forget_user(&target).await;
    Ok(Json(MemberView {
        user_id: target.id,
        sub: target.sub,
        username: target.username,
        email: target.email,
        role: m.role,
        created_at: m.created_at,
    }))
}

pub async fn remove(
    State(state): State<AppState>,
    access: OrgAccess<CanManageMembers>,
    UserPath(user): UserPath,
) -> Result<StatusCode, ApiError> {
    let (target, _) = manageable(&state, &access, user).await?;
    state
        .store
        .remove_member(&context(&state, &access.principal), access.org, user)
        .await?;
    state.principals.forget_user(&target).await;
    Ok(StatusCode::NO_CONTENT)
}
