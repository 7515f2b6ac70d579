//! The one path a committed change takes to the rest of the system. Handlers write through the
//! store (which validates and audits in the same transaction) and then say so here in one line:
//! security changes are applied on this instance before the response and reach the others
//! through the cluster sync (`crate::cluster::sync`); resource changes become live events for
//! WebSocket subscribers. Nothing else publishes, invalidates a cache, or nudges.

use crate::cluster::ClusterSync;
use crate::cluster::bus::{Bus, Event, ResourceAction};
use portcullis_store::Resource;
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct Changes {
    sync: Arc<ClusterSync>,
    bus: Bus,
}

impl Changes {
    pub fn new(sync: Arc<ClusterSync>, bus: Bus) -> Self {
        Self { sync, bus }
    }

    /// A security change was committed here (a revocation or cutoff, a user's status or
    /// memberships, an org deleted or restored, a flag): the change itself is read back from
    /// the audit log, so this is the same call after every kind.
    pub async fn committed(&self) {
        self.sync.after_local_change().await;
    }

    /// A resource was created, updated, deleted or restored.
    pub async fn resource(&self, r: &Resource, action: ResourceAction) {
        self.bus
            .resource_changed(r.org_id, r.id, action, r.version)
            .await;
    }

    /// What this instance applied and heard, for a socket.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.bus.subscribe()
    }

    /// Ready to serve as far as the cluster goes: Redis (if any) reached once, and the view of
    /// security changes current once.
    pub fn ready(&self) -> bool {
        self.bus.ready() && self.sync.live_once()
    }
}
