//! What handlers share. Cheap to clone: everything is behind an `Arc`.

use crate::principal::PrincipalCache;
use crate::readiness::Readiness;
use portcullis_auth::Verifier;
use portcullis_auth::clock::Clock;
use portcullis_store::Store;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub readiness: Readiness,
    pub verifier: Arc<Verifier>,
    pub clock: Arc<dyn Clock>,
    pub principals: PrincipalCache,
    /// Members of this IdP group are platform admins.
    pub admin_group: Arc<str>,
}
