//! A socket's authority (its current token and principal) and its checks, which are those of
//! an HTTP request (`crate::access`, through the socket door): verified, not revoked, the user
//! provisioned and not disabled, MFA for `/v1/ws`, and for each subscribed org the same org
//! decision as the HTTP guard. A refusal maps to a close code here.

use super::close;
use super::messages::ErrorCode;
use super::operations::Operation;
use crate::access::org::{self, OrgDenied};
use crate::access::{self as access, Door};
use crate::principal::Principal;
use crate::rbac::Action;
use crate::state::AppState;
use portcullis_auth::Rejection;
use portcullis_auth::dpop::{RequestProofs, Scheme};
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
    pub fn claims(&self) -> &portcullis_auth::VerifiedClaims {
        &self.principal.token.claims
    }

    /// Seconds until `exp` (negative once past).
    pub fn expires_in(&self, state: &AppState) -> i64 {
        self.claims().exp - state.clock.unix_seconds()
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

impl From<access::Denied> for Denied {
    fn from(d: access::Denied) -> Self {
        match d {
            access::Denied::Rejected(Rejection::UserDisabled) => Self::Forbidden,
            access::Denied::Rejected(r) => Self::Unauthorized(r),
            // `jit.provisioning` off and an unknown user: 403 over HTTP, 4403 here.
            access::Denied::NotProvisioned => Self::Forbidden,
            access::Denied::StepUp(_) => Self::MfaRequired,
            access::Denied::OtherSubject => Self::OtherSubject,
            access::Denied::Unavailable(e) => {
                tracing::warn!(error = %e, "websocket check could not reach the database");
                Self::Unavailable
            }
        }
    }
}

/// Where the user's identity (status and memberships) comes from: the principal cache, or the
/// database after an event said the user or an org changed.
pub use crate::access::Freshness as Identity;

/// Outside a request there are no request notes: the attempt is counted at once.
fn notes() -> axum::http::Extensions {
    axum::http::Extensions::new()
}

/// A token sent in a socket message, with the message's DPoP proof if any: a proof makes it a
/// `DPoP` presentation checked as a `GET` of `/v1/ws`, the upgrade request it stands for.
fn in_message<'a>(token: &'a str, proof: Option<&'a str>) -> access::Presented<'a> {
    access::Presented {
        scheme: if proof.is_some() {
            Scheme::Dpop
        } else {
            Scheme::Bearer
        },
        token,
        proof: access::Proof::Request(RequestProofs {
            method: "GET",
            path: access::SOCKET_ROUTE,
            proofs: proof.into_iter().collect(),
        }),
    }
}

/// Verifies `token` (with its DPoP `proof`, for a bound token) and builds the caller, with
/// every check of the socket door.
pub async fn authorize(
    state: &AppState,
    token: &str,
    proof: Option<&str>,
) -> Result<Authority, Denied> {
    let door = Door::Socket {
        freshness: Identity::Cached,
        subject: None,
    };
    let principal =
        access::authenticate(state, Ok(in_message(token, proof)), door, &notes()).await?;
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
    proof: Option<&str>,
    current: &Authority,
) -> Result<Authority, Denied> {
    let was = current.claims();
    let door = Door::Socket {
        freshness: Identity::Cached,
        subject: Some((&was.iss, &was.sub)),
    };
    let principal =
        access::authenticate(state, Ok(in_message(token, proof)), door, &notes()).await?;
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
    let door = Door::Socket {
        freshness: source,
        subject: None,
    };
    let established = access::Presented {
        // Not read: an established token's binding was checked when the socket took it.
        scheme: Scheme::Bearer,
        token: &current.token,
        proof: access::Proof::Established,
    };
    let principal = access::authenticate(state, Ok(established), door, &notes()).await?;
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

/// Read permission in `org`, by the org decision the HTTP guard makes (the org's MFA policy
/// included): `Ok(false)` where a request would get 404, 403 or the step-up challenge.
pub async fn may_read(state: &AppState, principal: &Principal, org: OrgId) -> Result<bool, Denied> {
    match org::decide(state, principal, org, Action::Read).await {
        Ok(_) => Ok(true),
        Err(OrgDenied::NotFound | OrgDenied::Forbidden | OrgDenied::StepUp(_)) => Ok(false),
        Err(OrgDenied::Unavailable(e)) => {
            tracing::warn!(error = %e, "websocket permission check could not reach the database");
            Err(Denied::Unavailable)
        }
    }
}
