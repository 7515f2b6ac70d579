//! Changes every instance must hear about: revocations, user and membership changes, org
//! deletions, flag changes, resource events. Published locally at once, and, when Redis is
//! configured, to every other instance through Redis pub/sub.
//!
//! An instance that loses its subscription cannot know what it missed, so the bus reports
//! whether it is in sync ([`Bus::in_sync`]); while it is not, consumers answer from the
//! database instead of their caches, and when the subscription is back the bus emits
//! [`Event::Resync`] so they reload.

mod redis_link;

use chrono::{DateTime, Utc};
use portcullis_store::{OrgId, ResourceId, RevocationKind, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
    /// An org was deleted or restored.
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
        action: String,
        version: i64,
    },
    /// Local only: events may have been missed; reload from the database.
    Resync,
}

/// What travels over Redis: the event and the instance it came from, so an instance does not
/// apply its own events twice.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    origin: Uuid,
    event: Event,
}

#[derive(Debug, Clone)]
pub struct Bus {
    local: broadcast::Sender<Event>,
    origin: Uuid,
    remote: Option<redis_link::Publisher>,
    in_sync: Arc<AtomicBool>,
    /// Set the first time the Redis subscription comes up; readiness waits for it.
    connected_once: Arc<AtomicBool>,
}

impl Bus {
    /// A bus for one instance alone: always in sync.
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(4096);
        Self {
            local,
            origin: Uuid::now_v7(),
            remote: None,
            in_sync: Arc::new(AtomicBool::new(true)),
            connected_once: Arc::new(AtomicBool::new(true)),
        }
    }

    /// A bus shared through Redis. Connects in the background; until the subscription is up
    /// the bus is not in sync. The returned task keeps the subscription alive.
    pub fn with_redis(
        url: &str,
        prefix: &str,
    ) -> anyhow::Result<(Self, tokio::task::JoinHandle<()>)> {
        let mut bus = Self::local();
        bus.in_sync.store(false, Ordering::Release);
        bus.connected_once.store(false, Ordering::Release);
        let channel = format!("{prefix}:events");
        let (publisher, task) = redis_link::start(url, channel, bus.clone())?;
        bus.remote = Some(publisher);
        Ok((bus, task))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Whether this instance can trust its caches: no Redis (one instance), or a live
    /// subscription.
    pub fn in_sync(&self) -> bool {
        self.in_sync.load(Ordering::Acquire)
    }

    pub fn has_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// Ready to serve: no Redis, or Redis reached at least once. A later Redis outage does not
    /// make the instance unready: it answers from the database until Redis is back.
    pub fn ready(&self) -> bool {
        self.connected_once.load(Ordering::Acquire)
    }

    /// Applies the event here at once, then tells the other instances. A failure to reach
    /// Redis is logged and marks the bus out of sync (the others will miss this event, and
    /// must not be trusted to have it: the database remains the source of truth).
    pub async fn publish(&self, event: Event) {
        let _ = self.local.send(event.clone());
        if let Some(remote) = &self.remote {
            let envelope = Envelope {
                origin: self.origin,
                event,
            };
            if let Err(e) = remote.publish(&envelope).await {
                tracing::warn!(error = %e, "could not publish an event to Redis");
            }
        }
    }

    fn deliver_remote(&self, envelope: Envelope) {
        if envelope.origin != self.origin {
            let _ = self.local.send(envelope.event);
        }
    }

    fn set_in_sync(&self, value: bool) {
        if value {
            self.connected_once.store(true, Ordering::Release);
        }
        let was = self.in_sync.swap(value, Ordering::AcqRel);
        if value && !was {
            let _ = self.local.send(Event::Resync);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_json() {
        let e = Event::TokenRevoked {
            kind: RevocationKind::OriginJti,
            value: "abc".into(),
            expires_at: Utc::now(),
        };
        let text = serde_json::to_string(&Envelope {
            origin: Uuid::now_v7(),
            event: e.clone(),
        })
        .expect("json");
        assert!(text.contains(r#""type":"token_revoked""#));
        let back: Envelope = serde_json::from_str(&text).expect("parse");
        assert_eq!(back.event, e);
    }

    #[tokio::test]
    async fn local_bus_delivers_to_subscribers() {
        let bus = Bus::local();
        let mut rx = bus.subscribe();
        bus.publish(Event::OrgChanged {
            org_id: OrgId::new(),
        })
        .await;
        assert!(matches!(rx.recv().await, Ok(Event::OrgChanged { .. })));
        assert!(bus.in_sync());
    }
}
