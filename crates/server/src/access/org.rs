//! What a principal may do inside an org: the one decision behind the HTTP guard
//! (`crate::http::guard`) and the WebSocket operations (`crate::ws::auth`).
//!
//! A caller with no role in the org is told it does not exist, exactly as for an org that does
//! not exist or was deleted (no oracle for which org ids exist), unless they are a platform
//! admin and the org is live. A role too low for the action is forbidden (they already know the
//! org). Then the org's MFA policy: its `mfa.required` (or the global default) and the caller's
//! role in `mfa.required_roles`.

use crate::mfa::StepUp;
use crate::principal::Principal;
use crate::rbac::{self, Action};
use crate::state::AppState;
use portcullis_store::{OrgId, Role, StoreError};

#[derive(Debug)]
pub enum OrgDenied {
    NotFound,
    Forbidden,
    StepUp(StepUp),
    Unavailable(StoreError),
}

/// The caller's role in `org` (`None` for a platform admin who is not a member) when they may
/// perform `action` there.
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    action: Action,
) -> Result<Option<Role>, OrgDenied> {
    let role = principal.role_in(org);
    if role.is_none() {
        let live = principal.platform_admin
            && state
                .store
                .get_org(org, false)
                .await
                .map_err(OrgDenied::Unavailable)?
                .is_some();
        if !live {
            return Err(OrgDenied::NotFound);
        }
    }
    if !rbac::allowed(role, principal.platform_admin, action) {
        return Err(OrgDenied::Forbidden);
    }
    super::mfa::enforce_org(state, principal, org, role).map_err(OrgDenied::StepUp)?;
    Ok(role)
}
