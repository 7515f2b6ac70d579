//! What handlers share. Cheap to clone: everything is behind an `Arc`.

use crate::principal::PrincipalCache;
use crate::readiness::Readiness;
use portcullis_auth::Verifier;
use portcullis_auth::clock::Clock;
use portcullis_store::Store;
use std::sync::Arc;

/// The shared state, behind one `Arc`. axum clones the state several times per request (route
/// service, `from_fn_with_state` layers, handler call); cloning the fields themselves (a dozen
/// `Arc`s, the moka cache's and the channels' handles, contended between cores) cost 10 to 20 us
/// of CPU per request under load (docs/benchmarks.md, "Where the new-token cost goes").
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

#[derive(Debug)]
pub struct AppStateInner {
    pub store: Arc<dyn Store>,
    pub readiness: Readiness,
    pub verifier: Arc<Verifier>,
    pub clock: Arc<dyn Clock>,
    pub principals: PrincipalCache,
    /// Every `iss` whose tokens name their app client (`client_id`): the tokens the
    /// `auth.client_ids` flag applies to.
    pub client_issuers: Arc<[String]>,
    /// Per-IP and per-user request rate limits (`rate_limit.*`).
    pub limits: crate::limits::rate::RateLimits,
    /// Revocation checks (`crate::revocation`).
    pub revocations: crate::revocation::Revocations,
    /// Where handlers report what they committed (`crate::changes`).
    pub changes: crate::changes::Changes,
    /// Runtime feature flags, kept current from the database and the bus (`crate::flags`).
    pub flags: crate::flags::Flags,
    /// MFA step-up policy from `[mfa]` (`crate::mfa`).
    pub mfa: Arc<crate::mfa::MfaPolicy>,
    /// `http.page_max_bytes`: the byte budget of a list page.
    pub page_max_bytes: usize,
    /// Long-lived work (WebSockets) ends itself when this triggers.
    pub shutdown: crate::shutdown::Shutdown,
    /// WebSockets and exports open on this instance, against `[ws]`'s caps.
    pub ws_caps: crate::limits::sockets::Caps,
    /// This API as a protected resource (RFC 9728): its metadata and 401 challenges.
    pub resource: Arc<crate::protected_resource::ProtectedResource>,
}
