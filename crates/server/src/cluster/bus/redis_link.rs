//! The Redis side of the bus: a publisher on a connection manager (which reconnects by
//! itself) and a subscriber task that re-subscribes with backoff, tells the bus whether the
//! subscription is up, and passes on only envelopes that pass [`super::envelope::open`].

use super::Bus;
use super::envelope::{self, Remote};
use super::replay::ReplayGuard;
use crate::cluster::key::ClusterKey;
use futures_util::StreamExt;
use redis::AsyncCommands;
use std::time::Duration;
use uuid::Uuid;

#[derive(Clone)]
pub struct Publisher {
    client: redis::Client,
    channel: String,
    key: ClusterKey,
    conn: std::sync::Arc<tokio::sync::OnceCell<redis::aio::ConnectionManager>>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Bound on one publish, so a hung Redis never holds up a request.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

impl Publisher {
    pub async fn publish(
        &self,
        origin: Uuid,
        counter: u64,
        message: &Remote,
    ) -> anyhow::Result<()> {
        let text = envelope::seal(
            &self.key,
            &self.channel,
            origin,
            counter,
            envelope::now_ms(),
            message,
        )?;
        let work = async {
            let conn = self
                .conn
                .get_or_try_init(|| async {
                    let config = redis::aio::ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(Duration::from_secs(2)))
                        .set_response_timeout(Some(Duration::from_secs(2)));
                    self.client.get_connection_manager_with_config(config).await
                })
                .await?;
            let mut conn = conn.clone();
            let _: i64 = conn.publish(&self.channel, text).await?;
            Ok::<_, redis::RedisError>(())
        };
        tokio::time::timeout(PUBLISH_TIMEOUT, work)
            .await
            .map_err(|_| anyhow::anyhow!("publish timed out"))??;
        Ok(())
    }
}

pub fn start(
    url: &str,
    channel: String,
    key: ClusterKey,
    bus: Bus,
) -> anyhow::Result<(Publisher, tokio::task::JoinHandle<()>)> {
    let client = redis::Client::open(url)?;
    let publisher = Publisher {
        client: client.clone(),
        channel: channel.clone(),
        key: key.clone(),
        conn: Default::default(),
    };
    let task = tokio::spawn(subscribe_forever(client, channel, key, bus));
    Ok((publisher, task))
}

async fn subscribe_forever(client: redis::Client, channel: String, key: ClusterKey, bus: Bus) {
    let mut guard = ReplayGuard::default();
    let mut backoff = MIN_BACKOFF;
    loop {
        let started = tokio::time::Instant::now();
        match subscribe_once(&client, &channel, &key, &bus, &mut guard).await {
            Ok(()) => tracing::warn!("Redis subscription ended; resubscribing"),
            Err(e) => {
                tracing::warn!(error = %e, "Redis subscription failed; answering from the database until it is back")
            }
        }
        bus.set_link_up(false);
        // A subscription that lived a while was healthy: start the backoff over.
        if started.elapsed() > Duration::from_secs(10) {
            backoff = MIN_BACKOFF;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// One subscription's life: connect, subscribe, report in sync, forward messages until the
/// connection drops. A ping every second notices a dead connection that sends nothing.
async fn subscribe_once(
    client: &redis::Client,
    channel: &str,
    key: &ClusterKey,
    bus: &Bus,
    guard: &mut ReplayGuard,
) -> anyhow::Result<()> {
    let mut pubsub = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub())
        .await
        .map_err(|_| anyhow::anyhow!("connect timed out"))??;
    pubsub.subscribe(channel).await?;
    let (mut sink, mut stream) = pubsub.split();
    bus.set_link_up(true);
    tracing::info!(channel, "subscribed to Redis events");
    let mut ping = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { return Ok(()) };
                let Ok(payload) = msg.get_payload::<String>() else {
                    crate::metrics::cluster_rejected(envelope::Dropped::Malformed.kind());
                    continue;
                };
                match envelope::open(key, channel, &payload, envelope::now_ms(), guard) {
                    Ok((origin, message)) => bus.deliver_remote(origin, message),
                    Err(dropped) => {
                        crate::metrics::cluster_rejected(dropped.kind());
                        tracing::warn!(kind = dropped.kind(), "dropped a message from Redis");
                    }
                }
            }
            _ = ping.tick() => {
                // In subscribed mode Redis answers a PING with an array, not "PONG": any reply will do.
                let pong = tokio::time::timeout(Duration::from_secs(2), sink.ping::<redis::Value>()).await;
                if !matches!(pong, Ok(Ok(_))) {
                    anyhow::bail!("Redis stopped answering pings");
                }
            }
        }
    }
}
