//! Who the caller is and whether they may go on: the checks every front door (the HTTP
//! extractors, the WebSocket handshake, the socket's `auth` message, refresh and periodic
//! re-check) runs on a bearer token, once, in one order:
//!
//! 1. the verifier (signature, claims, issuer rules), timed for metrics, then the token's key
//!    binding: a DPoP-bound token needs the `DPoP` scheme and a valid proof (RFC 9449);
//! 2. the `auth.client_ids` flag ([`flags`]);
//! 3. the principal ([`principal`]): revocations of the token, then of the user, before anything
//!    is written; the user row (provisioned on first sight unless `jit.provisioning` is off) and
//!    memberships; a disabled user is refused;
//! 4. the caller-level MFA rule ([`mfa`]) for what the door exposes.
//!
//! The outcome is noted for `portcullis_auth_attempts_total` here and nowhere else. A refusal is
//! a [`Denied`], which HTTP turns into a status (`crate::http::error`) and a socket into a close
//! code (`crate::ws::auth`). What a caller may do inside an org is decided by [`org`].

pub mod flags;
pub mod links;
pub mod mfa;
pub mod org;
mod principal;

pub use principal::{Freshness, resolve_principal};

use crate::mfa::StepUp;
use crate::principal::Principal;
use crate::state::AppState;
use axum::http::{Extensions, Method};
use portcullis_auth::dpop::{RequestProofs, Scheme};
use portcullis_auth::{Rejection, Verified};
use portcullis_store::StoreError;
use std::sync::Arc;

/// Why a caller may not go on.
#[derive(Debug, Clone)]
pub enum Denied {
    /// No usable token; or the token, its session or its user is refused (disabled users
    /// included, as `Rejection::UserDisabled`).
    Rejected(Rejection),
    /// `jit.provisioning` is off and the token's user has never been seen.
    NotProvisioned,
    /// MFA proof is missing or too old; the challenge says how to step up.
    StepUp(StepUp),
    /// A socket's refresh token names another issuer or subject than the socket's.
    OtherSubject,
    /// The database could not answer a check: never an open door.
    Unavailable(Arc<StoreError>),
}

impl From<Rejection> for Denied {
    fn from(r: Rejection) -> Self {
        Self::Rejected(r)
    }
}

impl From<StoreError> for Denied {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(Arc::new(e))
    }
}

impl From<crate::revocation::Refusal> for Denied {
    fn from(r: crate::revocation::Refusal) -> Self {
        match r {
            crate::revocation::Refusal::Rejected(r) => Self::Rejected(r),
            crate::revocation::Refusal::Unavailable(e) => Self::Unavailable(Arc::new(e)),
        }
    }
}

/// Which front door a token comes through; the rules that differ between them are here.
#[derive(Debug, Clone, Copy)]
pub enum Door<'a> {
    /// An HTTP request. Its route template decides `mfa.routes` (org routes leave the org's
    /// own MFA policy to the org decision); reads skip the revocation check while the
    /// `revocation.check_reads` flag is off.
    Request {
        method: &'a Method,
        route: Option<&'a str>,
    },
    /// A WebSocket: checked as a request to `/v1/ws`, never skipping revocation, and ending at
    /// `exp` exactly (the verifier's leeway is for requests in flight, not for a socket that can
    /// refresh in-band). A refresh names the socket's issuer and subject, which the new token
    /// must match before its user is looked up; a re-check after a change reads the user fresh.
    Socket {
        freshness: Freshness,
        subject: Option<(&'a str, &'a str)>,
    },
}

/// A token as it was presented: the `Authorization` scheme, and what proves possession of the
/// key a DPoP-bound token names.
#[derive(Debug, Clone)]
pub struct Presented<'a> {
    pub scheme: Scheme,
    pub token: &'a str,
    pub proof: Proof<'a>,
}

#[derive(Debug, Clone)]
pub enum Proof<'a> {
    /// The `DPoP` headers (or a socket message's proof) of the request or message.
    Request(RequestProofs<'a>),
    /// A socket's periodic re-check of the token it authenticated with: its binding was
    /// checked then, and a re-check has no request to prove anything with.
    Established,
}

impl<'a> Presented<'a> {
    /// An HTTP request's token: the `Authorization` header (`Bearer` or `DPoP`), never the
    /// query string, and the request's `DPoP` headers.
    pub fn from_request(parts: &'a axum::http::request::Parts) -> Result<Self, Rejection> {
        let (scheme, token) =
            portcullis_auth::bearer::access_token(&parts.headers, parts.uri.query())?;
        Ok(Self {
            scheme,
            token,
            proof: Proof::Request(RequestProofs {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                proofs: portcullis_auth::bearer::dpop_proofs(&parts.headers),
            }),
        })
    }

    /// A token the server holds for a browser session (the console): sent as `Bearer` with no
    /// proof, so a DPoP-bound token is refused rather than used without its key.
    pub fn held(token: &'a str, method: &'a str, path: &'a str) -> Self {
        Self {
            scheme: Scheme::Bearer,
            token,
            proof: Proof::Request(RequestProofs {
                method,
                path,
                proofs: Vec::new(),
            }),
        }
    }
}

/// The whole check of a presented token.
pub async fn authenticate(
    state: &AppState,
    presented: Result<Presented<'_>, Rejection>,
    door: Door<'_>,
    notes: &Extensions,
) -> Result<Principal, Denied> {
    let outcome = async {
        let verified = verify(state, &presented?, door).await?;
        let freshness = match door {
            Door::Request { .. } => Freshness::Cached,
            Door::Socket { freshness, subject } => {
                let c = &verified.claims;
                if subject.is_some_and(|(iss, sub)| c.iss != iss || c.sub != sub) {
                    return Err(Denied::OtherSubject);
                }
                freshness
            }
        };
        admit(state, verified, freshness, door).await
    }
    .await;
    let noted = match &outcome {
        Err(Denied::Rejected(r)) => Err(*r),
        // The token itself was good: what refused the caller is not an authentication failure.
        _ => Ok(()),
    };
    crate::metrics::http::note_auth(notes, noted);
    outcome
}

/// Steps 1 and 2: the verifier, the token's key binding (DPoP), and the accepted clients.
pub async fn verify(
    state: &AppState,
    presented: &Presented<'_>,
    door: Door<'_>,
) -> Result<Arc<Verified>, Rejection> {
    let token = presented.token;
    let verified = crate::metrics::verify(&state.verifier, token).await?;
    if let Proof::Request(request) = &presented.proof {
        state
            .verifier
            .check_binding(presented.scheme, token, &verified, request)
            .await?;
    }
    flags::check_client(state, &verified)?;
    if matches!(door, Door::Socket { .. }) && verified.claims.exp <= state.clock.unix_seconds() {
        return Err(Rejection::Expired);
    }
    Ok(verified)
}

/// Steps 3 and 4, for a token that passed [`verify`].
pub async fn admit(
    state: &AppState,
    verified: Arc<Verified>,
    freshness: Freshness,
    door: Door<'_>,
) -> Result<Principal, Denied> {
    let check_revocation = match door {
        Door::Request { method, .. } => flags::check_revocation(state, method),
        Door::Socket { .. } => true,
    };
    let principal = resolve_principal(state, verified, freshness, check_revocation).await?;
    let (routes, in_org) = match door {
        Door::Request { route, .. } => (route, route.is_some_and(|r| r.contains("{org_id}"))),
        Door::Socket { .. } => (Some(SOCKET_ROUTE), false),
    };
    mfa::check_caller(state, &principal, routes.as_slice(), in_org)
        .map_err(|why| Denied::StepUp(StepUp(state.mfa.challenge(why))))?;
    Ok(principal)
}

/// The route a socket is, for `mfa.routes`.
pub const SOCKET_ROUTE: &str = "/v1/ws";
