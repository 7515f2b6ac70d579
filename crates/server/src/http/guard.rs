//! The one guard. Routes name the action they perform (`OrgAccess<CanModerate>`), the guard
//! resolves the caller's role in the org named by `{org_id}` and asks [`rbac::allowed`].
//!
//! A caller with no role in the org gets 404, exactly as for an org that does not exist or
//! was deleted: the API is no oracle for which org ids exist. A member whose role is too low
//! gets 403 (they already know the org exists).

use super::error::ApiError;
use super::extract::CallerPrincipal;
use super::input::path_param;
use crate::principal::Principal;
use crate::rbac::{self, Action};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis_store::{OrgId, Role};
use std::marker::PhantomData;

pub trait Permission: Send + Sync + 'static {
    const ACTION: Action;
}

macro_rules! permission {
    ($($name:ident => $action:ident),* $(,)?) => {
        $(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$action;
            }
        )*
    };
}

permission! {
    CanRead => Read,
    CanWriteOwn => WriteOwn,
    CanModerate => Moderate,
    CanManageMembers => ManageMembers,
    CanOwn => Own,
}

/// A caller allowed to perform `P`'s action in the org of the path.
#[derive(Debug, Clone)]
pub struct OrgAccess<P> {
    pub principal: Principal,
    pub org: OrgId,
    /// The caller's role in the org; `None` for a platform admin who is not a member.
    pub role: Option<Role>,
    _permission: PhantomData<P>,
}

impl<P> OrgAccess<P> {
    /// Whether the caller may also perform `action` here (for checks that depend on the
    /// object, such as "edit own" versus "edit any").
    pub fn may(&self, action: Action) -> bool {
        rbac::allowed(self.role, self.principal.platform_admin, action)
    }

    pub fn may_assign(&self, role: Role) -> bool {
        rbac::may_assign(self.role, self.principal.platform_admin, role)
    }
}

impl<P: Permission> FromRequestParts<AppState> for OrgAccess<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CallerPrincipal(principal) = CallerPrincipal::from_request_parts(parts, state).await?;
        let org: OrgId = path_param(parts, "org_id").await?;
        let role = principal.role_in(org);
        if role.is_none() {
            // Only platform admins reach orgs they are not in, and only live ones.
            if !principal.platform_admin || state.store.get_org(org, false).await?.is_none() {
                return Err(ApiError::NotFound);
            }
        }
        if !rbac::allowed(role, principal.platform_admin, P::ACTION) {
            return Err(ApiError::Forbidden);
        }
        crate::access::mfa::enforce_org(state, &principal, org, role)?;
        Ok(Self {
            principal,
            org,
            role,
            _permission: PhantomData,
        })
    }
}

/// A platform admin (member of `auth.admin_group`); anyone else gets 403.
#[derive(Debug, Clone)]
pub struct PlatformAdmin(pub Principal);

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CallerPrincipal(principal) = CallerPrincipal::from_request_parts(parts, state).await?;
        if rbac::allowed(None, principal.platform_admin, Action::Platform) {
            Ok(Self(principal))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}
