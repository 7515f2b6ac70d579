//! What handlers share. Cheap to clone: everything is behind an `Arc`.

use crate::readiness::Readiness;
use portcullis_store::Store;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub readiness: Readiness,
}
