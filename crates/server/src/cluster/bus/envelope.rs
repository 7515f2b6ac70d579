//! What travels over Redis, and the checks it must pass before anything acts on it: the cluster
//! key's tag over the sender, its counter, the time and the payload; an age limit; and the
//! replay guard. Only then is the payload parsed, into a closed set of messages.

use super::ResourceAction;
use super::replay::{Replay, ReplayGuard};
use crate::cluster::key::{ClusterKey, Purpose};
use portcullis_store::{OrgId, ResourceId};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// What one instance tells the others. Security changes are not among them: those are read
/// from the database (`crate::cluster`); a nudge only says there is something to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Remote {
    /// Audit sequence `seq` exists: catch up to it.
    Nudge { seq: i64 },
    /// A live resource event for WebSocket subscribers.
    ResourceChanged {
        org_id: OrgId,
        resource_id: ResourceId,
        action: ResourceAction,
        version: i64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    origin: Uuid,
    counter: u64,
    sent_at_ms: u64,
    /// `Remote` as JSON text: the tag covers these exact bytes.
    payload: String,
    mac: String,
}

/// Envelopes older than this are refused, whatever their tag: it bounds both the replay guard's
/// memory and what a captured envelope is worth.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Tolerated clock difference between instances.
pub const MAX_CLOCK_AHEAD: Duration = Duration::from_secs(5);

/// Why an envelope was dropped, as counted in `portcullis_cluster_rejected_total{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Malformed,
    BadMac,
    Stale,
    Replayed,
}

impl Dropped {
    pub fn kind(self) -> &'static str {
        match self {
            Dropped::Malformed => "event_malformed",
            Dropped::BadMac => "event_bad_mac",
            Dropped::Stale => "event_stale",
            Dropped::Replayed => "event_replayed",
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn signed_parts<'a>(
    channel: &'a [u8],
    origin: &'a [u8],
    counter: &'a [u8],
    sent: &'a [u8],
    payload: &'a [u8],
) -> [&'a [u8]; 5] {
    [channel, origin, counter, sent, payload]
}

/// The wire text of `message` from `origin`, its `counter`-th, tagged for `channel`.
pub fn seal(
    key: &ClusterKey,
    channel: &str,
    origin: Uuid,
    counter: u64,
    sent_at_ms: u64,
    message: &Remote,
) -> serde_json::Result<String> {
    let payload = serde_json::to_string(message)?;
    let mac = key.sign(
        Purpose::Event,
        &signed_parts(
            channel.as_bytes(),
            origin.as_bytes(),
            &counter.to_be_bytes(),
            &sent_at_ms.to_be_bytes(),
            payload.as_bytes(),
        ),
    );
    serde_json::to_string(&Envelope {
        origin,
        counter,
        sent_at_ms,
        payload,
        mac,
    })
}

/// Checks and unwraps one received envelope. Returns the sender and the message.
pub fn open(
    key: &ClusterKey,
    channel: &str,
    text: &str,
    now_ms: u64,
    guard: &mut ReplayGuard,
) -> Result<(Uuid, Remote), Dropped> {
    let e: Envelope = serde_json::from_str(text).map_err(|_| Dropped::Malformed)?;
    let tagged = key.verify(
        Purpose::Event,
        &signed_parts(
            channel.as_bytes(),
            e.origin.as_bytes(),
            &e.counter.to_be_bytes(),
            &e.sent_at_ms.to_be_bytes(),
            e.payload.as_bytes(),
        ),
        &e.mac,
    );
    if !tagged {
        return Err(Dropped::BadMac);
    }
    let ahead = e.sent_at_ms.saturating_sub(now_ms);
    let age = now_ms.saturating_sub(e.sent_at_ms);
    if ahead > MAX_CLOCK_AHEAD.as_millis() as u64 || age > MAX_AGE.as_millis() as u64 {
        return Err(Dropped::Stale);
    }
    guard
        .admit(e.origin, e.counter, Instant::now(), MAX_AGE * 2)
        .map_err(|r| match r {
            Replay::Repeated | Replay::TooOld => Dropped::Replayed,
        })?;
    let message: Remote = serde_json::from_str(&e.payload).map_err(|_| Dropped::Malformed)?;
    Ok((e.origin, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ClusterKey {
        ClusterKey::new(b"a cluster secret of at least 32 bytes!")
    }

    #[test]
    fn a_sealed_envelope_opens_once_and_nowhere_else() {
        let k = key();
        let origin = Uuid::now_v7();
        let now = now_ms();
        let msg = Remote::Nudge { seq: 42 };
        let text = seal(&k, "p:events", origin, 1, now, &msg).expect("seal");
        let mut guard = ReplayGuard::default();
        assert_eq!(
            open(&k, "p:events", &text, now, &mut guard),
            Ok((origin, msg))
        );
        assert_eq!(
            open(&k, "p:events", &text, now, &mut guard),
            Err(Dropped::Replayed)
        );
        let mut fresh = ReplayGuard::default();
        assert_eq!(
            open(&k, "other:events", &text, now, &mut fresh),
            Err(Dropped::BadMac),
            "bound to its channel"
        );
        let other = ClusterKey::new(b"another secret, also at least 32 bytes");
        assert_eq!(
            open(&other, "p:events", &text, now, &mut fresh),
            Err(Dropped::BadMac)
        );
        let late = now + MAX_AGE.as_millis() as u64 + 1;
        assert_eq!(
            open(&k, "p:events", &text, late, &mut fresh),
            Err(Dropped::Stale)
        );
        assert_eq!(
            open(&k, "p:events", "{\"type\":\"nudge\"}", now, &mut fresh),
            Err(Dropped::Malformed)
        );
    }

    #[test]
    fn a_changed_payload_fails_the_tag() {
        let k = key();
        let now = now_ms();
        let text = seal(&k, "c", Uuid::now_v7(), 1, now, &Remote::Nudge { seq: 1 }).expect("seal");
        let forged = text.replace("\\\"seq\\\":1", "\\\"seq\\\":9");
        assert_ne!(forged, text);
        assert_eq!(
            open(&k, "c", &forged, now, &mut ReplayGuard::default()),
            Err(Dropped::BadMac)
        );
    }

    #[test]
    fn unknown_resource_actions_never_parse() {
        let bad = r#"{"type":"resource_changed","org_id":"0192a0b0-0000-7000-8000-000000000000","resource_id":"0192a0b0-0000-7000-8000-000000000001","action":"<script>","version":1}"#;
        assert!(serde_json::from_str::<Remote>(bad).is_err());
        let good = bad.replace("<script>", "updated");
        assert!(serde_json::from_str::<Remote>(&good).is_ok());
    }
}
