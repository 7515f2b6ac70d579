//! Whether the schema is in place. Set once by start-up or by the background migration task;
//! `/readyz` reports 503 until then.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Readiness {
    migrated: Arc<AtomicBool>,
}

impl Readiness {
    pub fn mark_migrated(&self) {
        self.migrated.store(true, Ordering::Release);
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }
}
