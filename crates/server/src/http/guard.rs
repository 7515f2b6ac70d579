//! The one guard. Routes name the action they perform (`OrgAccess<CanModerate>`); the guard
//! reads `{org_id}` and asks `crate::access::org::decide`, the same decision WebSockets use:
//! 404 for an org the caller cannot see (no oracle for which org ids exist), 403 for a role
//! too low, the step-up 401 for the org's MFA policy.

use super::error::ApiError;
use super::extract::CallerPrincipal;
use super::input::path_param;
use crate::access::org::{self, OrgDenied};
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
        let role = org::decide(state, &principal, org, P::ACTION)
            .await
            .map_err(|denied| match denied {
                OrgDenied::NotFound => ApiError::NotFound,
                OrgDenied::Forbidden => ApiError::Forbidden,
                OrgDenied::StepUp(s) => s.into(),
                OrgDenied::Unavailable(e) => e.into(),
            })?;
        Ok(Self {
            principal,
            org,
            role,
            _permission: PhantomData,
        })
    }
}

/// A platform admin (a token holding one of its issuer's admin roles); anyone else gets 403.
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
