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
    /// Members of this IdP group are platform admins.
    pub admin_group: Arc<str>,
    /// Per-IP and per-user request rate limits (`rate_limit.*`).
    pub limits: crate::limits::rate::RateLimits,
    /// Revocation checks and the event bus shared with the other instances.
    pub sessions: crate::revocation::Sessions,
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
}

impl AppState {
    /// A security change was committed here (a user's status or memberships, an org deleted or
    /// restored, a flag): apply it on this instance before the response, and nudge the others.
    /// The change itself is read back from the database (`crate::cluster::sync`), so this is
    /// the same one line after every kind of change.
    pub async fn changed(&self) {
        self.sessions.sync().after_local_change().await;
    }

    /// See [`AppState::changed`].
    pub async fn user_changed(&self, _user: &portcullis_store::User) {
        self.changed().await;
    }

    /// See [`AppState::changed`].
    pub async fn org_changed(&self, _org: portcullis_store::OrgId) {
        self.changed().await;
    }
}
