//! The checks a socket's token goes through, the same ones as an HTTP request: the verifier,
//! the user (provisioned on first sight, not disabled), [`crate::revocation::Sessions::check`]
//! (revocation per token, per session and per user), and read permission in each subscribed
//! org through [`rbac::allowed`]. Unlike HTTP, a socket ends exactly at `exp`: the verifier's
//! clock-skew leeway is for requests in flight, not for a session that can refresh in-band.

use super::close;
use super::messages::ErrorCode;
use super::operations::Operation;
use crate::access::{Freshness, NotAdmitted, resolve_principal};
use crate::principal::Principal;
use crate::rbac::{self, Action};
use crate::revocation::Refusal;
use crate::state::AppState;
use portcullis_auth::{Rejection, Verified};
use portcullis_store::OrgId;
use std::fmt;
use std::sync::Arc;

/// A socket's current token and who it makes the caller.
#[derive(Clone)]
pub struct Authority {
    /// Kept to re-verify it periodically (a key retired from the JWKS ends the socket too).
    token: Arc<str>,
    pub principal: Principal,
}

/// The token itself is never printed.
impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("user_id", &self.principal.user_id())
            .field("exp", &self.principal.token.claims.exp)
            .finish_non_exhaustive()
    }
}

impl Authority {
    pub fn claims(&self) -> &portcullis_auth::jwt::Claims {
        &self.principal.token.claims
    }

    /// Seconds until `exp` (negative once past).
    pub fn expires_in(&self, state: &AppState) -> i64 {
        self.claims().exp - state.clock.now().timestamp()
    }

    /// The same principal with its identity reloaded.
    fn with_principal(&self, principal: Principal) -> Self {
        Self {
            token: Arc::clone(&self.token),
            principal,
        }
    }
}

/// Why a socket (or an export) may not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Invalid, expired or revoked token: close 4401.
    Unauthorized(Rejection),
    /// Disabled user, or read permission lost in a subscribed org: close 4403.
    Forbidden,
    /// The database could not answer: close 1013 (try again later), never open.
    Unavailable,
    /// A refresh token of another issuer or subject (refused; never a reason to close).
    OtherSubject,
    /// MFA is required and the token does not prove it: close 4401 (sign in again with MFA).
    MfaRequired,
}

impl Denied {
    pub fn close_code(self) -> u16 {
        match self {
            Self::Unauthorized(Rejection::UserDisabled) | Self::Forbidden => close::FORBIDDEN,
            Self::Unauthorized(_) | Self::OtherSubject | Self::MfaRequired => close::UNAUTHORIZED,
            Self::Unavailable => close::TRY_AGAIN_LATER,
        }
    }

    /// For the log line of the close: a reason code, never a claim.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unauthorized(r) => r.code(),
            Self::Forbidden => "forbidden",
            Self::Unavailable => "unavailable",
            Self::OtherSubject => "other_subject",
            Self::MfaRequired => "insufficient_user_authentication",
        }
    }
}

impl From<Refusal> for Denied {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Rejected(Rejection::UserDisabled) => Self::Forbidden,
            Refusal::Rejected(r) => Self::Unauthorized(r),
            Refusal::Unavailable(e) => {
                tracing::warn!(error = %e, "websocket session check could not reach the database");
                Self::Unavailable
            }
        }
    }
}

/// Where the user's identity (status and memberships) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The principal cache, as HTTP requests do (it is invalidated by the bus's events).
    Cached,
    /// The database: after an event said the user or an org changed, when the cache on this
    /// instance may not have been invalidated yet.
    Fresh,
}

/// Verifies `token` and builds the caller, with every check of an HTTP request.
pub async fn authorize(state: &AppState, token: &str) -> Result<Authority, Denied> {
    let verified = verify(state, token).await?;
    let principal = principal(state, verified, Identity::Cached).await?;
    Ok(Authority {
        token: Arc::from(token),
        principal,
    })
}

/// Verifies a refresh token for the socket of `current`: every check of [`authorize`], and the
/// same issuer and subject, compared before the user is looked up (a token of someone else
/// provisions nobody and switches nothing).
pub async fn authorize_as(
    state: &AppState,
    token: &str,
    current: &Authority,
) -> Result<Authority, Denied> {
    let verified = verify(state, token).await?;
    let (now, was) = (&verified.claims, current.claims());
    if now.iss != was.iss || now.sub != was.sub {
        return Err(Denied::OtherSubject);
    }
    let principal = principal(state, verified, Identity::Cached).await?;
    Ok(Authority {
        token: Arc::from(token),
        principal,
    })
}

/// Builds the authority from a token the HTTP extractor already authorized.
pub fn from_http(token: &str, principal: Principal) -> Authority {
    Authority {
        token: Arc::from(token),
        principal,
    }
}

async fn verify(state: &AppState, token: &str) -> Result<Arc<Verified>, Denied> {
    // Outside a request: the attempt is counted at once (no request notes to defer to).
    let verified = crate::metrics::verify(&state.verifier, token, &axum::http::Extensions::new())
        .await
        .map_err(Denied::Unauthorized)?;
    // `auth.client_ids` flag, as for a request.
    crate::access::flags::check_client(state, &verified).map_err(Denied::Unauthorized)?;
    if verified.claims.exp <= state.clock.now().timestamp() {
        return Err(Denied::Unauthorized(Rejection::Expired));
    }
    Ok(verified)
}

async fn principal(
    state: &AppState,
    token: Arc<Verified>,
    source: Identity,
) -> Result<Principal, Denied> {
    let freshness = match source {
        Identity::Cached => Freshness::Cached,
        Identity::Fresh => Freshness::Fresh,
    };
    // A socket lives on: its checks never skip revocation, whatever `revocation.check_reads`
    // says for HTTP reads.
    let principal = resolve_principal(state, token, freshness, true)
        .await
        .map_err(|e| match e {
            NotAdmitted::Rejected(r) => Denied::Unauthorized(r),
            // `jit.provisioning` off and an unknown user: 403 over HTTP, 4403 here.
            NotAdmitted::NotProvisioned => Denied::Forbidden,
            NotAdmitted::Unavailable(e) => {
                tracing::warn!(error = %e, "websocket identity could not be checked");
                Denied::Unavailable
            }
        })?;
    require_mfa(state, &principal)?;
    Ok(principal)
}

/// MFA step-up as for any request to `/v1/ws` (`crate::access::mfa::check_caller`, the rule requests
/// go through): the route in `mfa.routes`, the global `mfa.required`, or a platform admin when
/// that role requires it. A socket whose token lacks the proof is refused (4401: sign in again
/// with MFA).
fn require_mfa(state: &AppState, principal: &Principal) -> Result<(), Denied> {
    crate::access::mfa::check_caller(state, principal, &["/v1/ws"], false)
        .map_err(|_| Denied::MfaRequired)
}

/// MFA step-up for `op`: the caller-level rule of the routes whose data it exposes, as a
/// request to them would meet it. The org's own policy is part of [`may_read`].
pub fn require_mfa_for(
    state: &AppState,
    principal: &Principal,
    op: Operation,
) -> Result<(), Denied> {
    crate::access::mfa::check_caller(state, principal, op.routes(), true)
        .map_err(|_| Denied::MfaRequired)
}

/// Whether the token may perform `op` in `org`: read permission there ([`may_read`], so
/// `not_found` comes first and the answer is no oracle for which orgs exist), then the MFA rule
/// of the routes the operation exposes.
pub async fn may_use(
    state: &AppState,
    principal: &Principal,
    org: OrgId,
    op: Operation,
) -> Result<(), ErrorCode> {
    match may_read(state, principal, org).await {
        Ok(true) => {}
        Ok(false) => return Err(ErrorCode::NotFound),
        Err(_) => return Err(ErrorCode::Unavailable),
    }
    require_mfa_for(state, principal, op).map_err(|_| ErrorCode::InsufficientUserAuthentication)
}

/// Checks the socket's current token again: re-verified (signature, key still published,
/// expiry), the user reloaded from `source`, the session checks, read permission in every org
/// of `orgs`, and, when there is any, the MFA rule of `op` (proof too old by now:
/// [`Denied::MfaRequired`]). Returns the authority with the reloaded identity.
pub async fn recheck(
    state: &AppState,
    current: &Authority,
    source: Identity,
    op: Operation,
    orgs: impl IntoIterator<Item = OrgId>,
) -> Result<Authority, Denied> {
    let verified = verify(state, &current.token).await?;
    let principal = principal(state, verified, source).await?;
    let mut any = false;
    for org in orgs {
        if !may_read(state, &principal, org).await? {
            return Err(Denied::Forbidden);
        }
        any = true;
    }
    if any {
        require_mfa_for(state, &principal, op)?;
    }
    Ok(current.with_principal(principal))
}

/// Read permission in `org`, decided exactly as the HTTP guard does: the caller's role there,
/// or, for a platform admin who is not a member, the org existing and live.
pub async fn may_read(state: &AppState, principal: &Principal, org: OrgId) -> Result<bool, Denied> {
    let role = principal.role_in(org);
    if role.is_none() {
        if !principal.platform_admin {
            return Ok(false);
        }
        match state.store.get_org(org, false).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(false),
            Err(e) => {
                tracing::warn!(error = %e, "websocket permission check could not reach the database");
                return Err(Denied::Unavailable);
            }
        }
    }
    if !rbac::allowed(role, principal.platform_admin, Action::Read) {
        return Ok(false);
    }
    // The org's MFA policy (`crate::access::mfa::enforce_org`): without the proof the org is out of
    // reach for this token.
    Ok(crate::access::mfa::enforce_org(state, principal, org, role).is_ok())
}
