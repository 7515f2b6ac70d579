//! Where the MFA policy (`crate::mfa`) meets a caller: which rule applies to a request or a
//! socket operation, from the flags and `mfa.routes`, decided the same way for both.

use crate::config::MfaRole;
use crate::mfa::{Shortfall, StepUp};
use crate::principal::Principal;
use crate::state::AppState;
use portcullis_store::{OrgId, Role};

fn now(state: &AppState) -> i64 {
    state.clock.unix_seconds()
}

/// The caller-level rule, for a call that exposes the data of the route templates `routes`:
/// MFA proof is needed when one of them is listed in `mfa.routes`, when the caller is a platform
/// admin and `mfa.required_roles` names that role, and, for calls outside any org (`in_org`
/// false), when the global `mfa.required` is on (in an org, the global value is only the org's
/// default, applied by [`enforce_org`]). Requests and sockets reach it through
/// `crate::access::admit`; WebSocket operations name the routes whose data they
/// hand out, so requests and sockets share this one rule.
pub fn check_caller(
    state: &AppState,
    principal: &Principal,
    routes: &[&str],
    in_org: bool,
) -> Result<(), Shortfall> {
    let required = routes.iter().any(|r| state.mfa.route_requires(r))
        || (!in_org && state.flags.mfa_required(None))
        || (principal.platform_admin && state.flags.mfa_required_for_role(MfaRole::PlatformAdmin));
    if required {
        state.mfa.satisfied(&principal.token.claims, now(state))?;
    }
    Ok(())
}

/// For org routes (the guard, and the handlers of org routes outside it), once the caller is
/// known to have access: the org's `mfa.required` (or the global value) and the caller's role
/// in `mfa.required_roles`.
pub fn enforce_org(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    role: Option<Role>,
) -> Result<(), StepUp> {
    let required = state.flags.mfa_required(Some(org))
        || role.is_some_and(|r| state.flags.mfa_required_for_role(MfaRole::Org(r)));
    if required {
        state.mfa.require(&principal.token.claims, now(state))?;
    }
    Ok(())
}
