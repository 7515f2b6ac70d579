//! The bus: what this instance's tasks and sockets hear about (security changes applied here,
//! resource events), and the Redis pub/sub link to the other instances.
//!
//! Redis carries two things only, each in an envelope tagged with the cluster key
//! ([`envelope`]): nudges ("audit sequence N exists: catch up") and live resource events for
//! WebSocket subscribers. Security changes themselves are never taken from Redis: every
//! instance reads them from the database (`crate::cluster`), on a nudge, after a reconnect and
//! on a timer, so a lost, forged or replayed message can neither hide nor invent one.

mod envelope;
mod redis_link;
mod replay;

pub use envelope::Remote;

use crate::cluster::key::ClusterKey;
use chrono::{DateTime, Utc};
use portcullis_store::{OrgId, ResourceId, RevocationKind, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

/// What happened to a resource, as WebSocket subscribers are told. A closed set: a value from
/// anywhere else never reaches a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAction {
    Created,
    Updated,
    Deleted,
    Restored,
}

/// Local events: what this instance applied, for the tasks and sockets that act on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    TokenRevoked {
        kind: RevocationKind,
        value: String,
        expires_at: DateTime<Utc>,
    },
    UserSessionsRevoked {
        user_id: UserId,
        before: DateTime<Utc>,
    },
    /// A user's status or memberships changed.
    UserChanged {
        user_id: UserId,
        issuer: String,
        sub: String,
    },
    /// An org was deleted, restored or purged.
    OrgChanged {
        org_id: OrgId,
    },
    FlagChanged {
        name: String,
        org_id: Option<OrgId>,
    },
    ResourceChanged {
        org_id: OrgId,
        resource_id: ResourceId,
        action: ResourceAction,
        version: i64,
    },
    /// This instance reloaded its whole view: whatever a socket holds may be stale.
    Resync,
}

/// The state of the Redis subscription, read by the catch-up to know whether its view may have
/// missed a nudge.
#[derive(Debug, Default)]
pub struct Link {
    up: AtomicBool,
    /// Bumped each time the subscription comes (back) up.
    generation: AtomicU64,
    /// Set the first time the subscription comes up; readiness waits for it.
    connected_once: AtomicBool,
}

/// Nudges received, for the catch-up task.
#[derive(Debug, Default)]
pub struct Nudges {
    pub highest: AtomicI64,
    pub wake: Notify,
}

#[derive(Debug, Clone)]
pub struct Bus {
    local: broadcast::Sender<Event>,
    origin: Uuid,
    counter: Arc<AtomicU64>,
    remote: Option<redis_link::Publisher>,
    link: Option<Arc<Link>>,
    nudges: Arc<Nudges>,
}

impl Bus {
    /// A bus for one instance alone.
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(4096);
        Self {
            local,
            origin: Uuid::now_v7(),
            counter: Arc::new(AtomicU64::new(0)),
            remote: None,
            link: None,
            nudges: Arc::default(),
        }
    }

    /// A bus shared through Redis, authenticated with `key`. Connects in the background; the
    /// returned task keeps the subscription alive.
    pub fn with_redis(
        url: &str,
        prefix: &str,
        key: ClusterKey,
    ) -> anyhow::Result<(Self, tokio::task::JoinHandle<()>)> {
        let mut bus = Self::local();
        bus.link = Some(Arc::default());
        let channel = format!("{prefix}:events");
        let (publisher, task) = redis_link::start(url, channel, key, bus.clone())?;
        bus.remote = Some(publisher);
        Ok((bus, task))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Tells this instance's tasks and sockets.
    pub fn emit(&self, event: Event) {
        let _ = self.local.send(event);
    }

    pub fn has_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The subscription's generation while it is up; `Some(0)` while it is down (generations
    /// start at 1); `None` without Redis.
    pub fn link_generation(&self) -> Option<u64> {
        self.link.as_ref().map(|l| {
            if l.up.load(Ordering::Acquire) {
                l.generation.load(Ordering::Acquire)
            } else {
                0
            }
        })
    }

    /// Ready to serve: no Redis, or Redis reached at least once. A later Redis outage does not
    /// make the instance unready: it answers from the database until Redis is back.
    pub fn ready(&self) -> bool {
        self.link
            .as_ref()
            .is_none_or(|l| l.connected_once.load(Ordering::Acquire))
    }

    pub fn nudges(&self) -> &Arc<Nudges> {
        &self.nudges
    }

    /// Tells the other instances that audit sequence `seq` exists. A lost nudge costs at most
    /// one sync interval: the others read the database on a timer too.
    pub async fn nudge(&self, seq: i64) {
        self.send_remote(&Remote::Nudge { seq }).await;
    }

    /// A resource event: to this instance's sockets at once, and to the other instances'.
    pub async fn resource_changed(
        &self,
        org_id: OrgId,
        resource_id: ResourceId,
        action: ResourceAction,
        version: i64,
    ) {
        self.emit(Event::ResourceChanged {
            org_id,
            resource_id,
            action,
            version,
        });
        self.send_remote(&Remote::ResourceChanged {
            org_id,
            resource_id,
            action,
            version,
        })
        .await;
    }

    async fn send_remote(&self, message: &Remote) {
        if let Some(remote) = &self.remote {
            let counter = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
            if let Err(e) = remote.publish(self.origin, counter, message).await {
                tracing::warn!(error = %e, "could not publish to Redis; the other instances catch up from the database");
            }
        }
    }

    /// A message from another instance, already authenticated.
    fn deliver_remote(&self, origin: Uuid, message: Remote) {
        if origin == self.origin {
            return;
        }
        match message {
            Remote::Nudge { seq } => {
                self.nudges.highest.fetch_max(seq, Ordering::AcqRel);
                self.nudges.wake.notify_one();
            }
            Remote::ResourceChanged {
                org_id,
                resource_id,
                action,
                version,
            } => self.emit(Event::ResourceChanged {
                org_id,
                resource_id,
                action,
                version,
            }),
        }
    }

    fn set_link_up(&self, up: bool) {
        let Some(link) = &self.link else { return };
        if up {
            link.generation.fetch_add(1, Ordering::AcqRel);
            link.connected_once.store(true, Ordering::Release);
        }
        link.up.store(up, Ordering::Release);
        // Either way the catch-up must run now: after a reconnect to read what the lost
        // subscription may have missed; after a loss to stop trusting the view at once.
        self.nudges.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_bus_delivers_to_subscribers() {
        let bus = Bus::local();
        let mut rx = bus.subscribe();
        let org_id = OrgId::new();
        let resource_id = ResourceId::new();
        bus.resource_changed(org_id, resource_id, ResourceAction::Created, 1)
            .await;
        assert_eq!(
            rx.recv().await.ok(),
            Some(Event::ResourceChanged {
                org_id,
                resource_id,
                action: ResourceAction::Created,
                version: 1
            })
        );
        assert_eq!(bus.link_generation(), None);
        assert!(bus.ready());
    }
}
