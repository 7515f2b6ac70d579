//! A key source shared by every instance through Redis: the instance that finds the shared
//! copy too old takes a short lock and fetches from the issuer; the others use its copy. N
//! instances then make one issuer fetch per refresh interval instead of N. Whenever Redis
//! cannot answer, each instance simply fetches for itself: Redis speeds this up, it is never
//! needed for keys to load.
//!
//! Redis is never trusted with the keys themselves. A copy counts only if it carries the
//! cluster key's tag over the issuer, the fetch time and the document (so only an instance of
//! this deployment can have written it, for this issuer), and if that fetch time is neither in
//! the future nor older than the freshness asked for. Anything else is ignored and counted
//! (`portcullis_cluster_rejected_total{kind="jwks_*"}`), and this instance fetches from the
//! issuer itself.

use crate::cluster::key::{ClusterKey, Purpose};
use async_trait::async_trait;
use portcullis_auth::jwks::{FetchError, FetchReason, Fetched, KeySource, Validators};
use portcullis_auth::keys::parse_jwks;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct RedisSharedJwks {
    inner: Box<dyn KeySource>,
    key: ClusterKey,
    issuer: String,
    client: redis::Client,
    conn: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    copy_key: String,
    lock_key: String,
    /// A shared copy younger than this is used for a scheduled refresh.
    fresh_for: Duration,
    /// For an unknown kid (a rotation may just have happened) only a copy younger than this
    /// will do: another instance that met the same kid just now has fetched it.
    fresh_for_unknown_kid: Duration,
    /// How long the fetching instance holds the lock (its fetch is bounded by less).
    lock_for: Duration,
}

impl std::fmt::Debug for RedisSharedJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSharedJwks")
            .field("inner", &self.inner)
            .field("copy_key", &self.copy_key)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedCopy {
    fetched_at_ms: u64,
    document: String,
    mac: String,
}

/// Tolerated clock difference between instances for a copy's fetch time.
const MAX_CLOCK_AHEAD: Duration = Duration::from_secs(5);

fn tag_parts<'a>(issuer: &'a str, fetched_at: &'a [u8; 8], document: &'a str) -> [&'a [u8]; 3] {
    [issuer.as_bytes(), fetched_at, document.as_bytes()]
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Bound on every Redis call made here, connecting included.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

impl RedisSharedJwks {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        inner: Box<dyn KeySource>,
        key: ClusterKey,
        client: redis::Client,
        prefix: &str,
        issuer: &str,
        fresh_for: Duration,
        fresh_for_unknown_kid: Duration,
        lock_for: Duration,
    ) -> Self {
        Self {
            inner,
            key,
            issuer: issuer.to_owned(),
            client,
            conn: tokio::sync::OnceCell::new(),
            copy_key: format!("{prefix}:jwks:{issuer}"),
            lock_key: format!("{prefix}:jwks-lock:{issuer}"),
            fresh_for,
            fresh_for_unknown_kid,
            lock_for,
        }
    }

    async fn conn(&self) -> Option<redis::aio::ConnectionManager> {
        let connect = self.conn.get_or_try_init(|| async {
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(REDIS_TIMEOUT))
                .set_response_timeout(Some(REDIS_TIMEOUT));
            self.client.get_connection_manager_with_config(config).await
        });
        match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
            Ok(Ok(c)) => Some(c.clone()),
            _ => None,
        }
    }

    /// The shared copy, if there is an authentic one younger than `max_age`.
    async fn fresh_copy(&self, max_age: Duration) -> Option<Vec<u8>> {
        let mut conn = self.conn().await?;
        let text: Option<String> = conn.get(&self.copy_key).await.ok()?;
        match self.check_copy(&text?, max_age, now_ms()) {
            Ok(document) => document,
            Err(kind) => {
                crate::metrics::cluster_rejected(kind);
                tracing::warn!(kind, issuer = %self.issuer, "ignored the shared key set in Redis; fetching from the issuer");
                None
            }
        }
    }

    /// The document of a copy that passes every check; `Ok(None)` for an authentic copy that
    /// is merely older than `max_age` (it expires on its own); `Err(kind)` for a copy no
    /// instance of this deployment can have written.
    fn check_copy(
        &self,
        text: &str,
        max_age: Duration,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, &'static str> {
        let copy: SharedCopy = serde_json::from_str(text).map_err(|_| "jwks_malformed")?;
        let fetched_at = copy.fetched_at_ms.to_be_bytes();
        let parts = tag_parts(&self.issuer, &fetched_at, &copy.document);
        if !self.key.verify(Purpose::KeySet, &parts, &copy.mac) {
            return Err("jwks_bad_mac");
        }
        if copy.fetched_at_ms > now_ms + MAX_CLOCK_AHEAD.as_millis() as u64 {
            return Err("jwks_from_the_future");
        }
        let age = Duration::from_millis(now_ms.saturating_sub(copy.fetched_at_ms));
        Ok((age < max_age).then(|| copy.document.into_bytes()))
    }

    async fn try_lock(&self) -> bool {
        let Some(mut conn) = self.conn().await else {
            return false;
        };
        let set: Result<Option<String>, _> = redis::cmd("SET")
            .arg(&self.lock_key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(self.lock_for.as_millis() as u64)
            .query_async(&mut conn)
            .await;
        matches!(set, Ok(Some(_)))
    }

    async fn share(&self, document: &[u8]) {
        let Ok(document) = String::from_utf8(document.to_vec()) else {
            return;
        };
        let fetched_at_ms = now_ms();
        let mac = self.key.sign(
            Purpose::KeySet,
            &tag_parts(&self.issuer, &fetched_at_ms.to_be_bytes(), &document),
        );
        let copy = SharedCopy {
            fetched_at_ms,
            document,
            mac,
        };
        if let (Some(mut conn), Ok(text)) = (self.conn().await, serde_json::to_string(&copy)) {
            // Kept twice as long as it is fresh, so an idle deployment leaves nothing behind.
            let keep = (self.fresh_for * 2).as_millis() as u64;
            let _: Result<(), _> = redis::cmd("SET")
                .arg(&self.copy_key)
                .arg(text)
                .arg("PX")
                .arg(keep.max(1))
                .query_async(&mut conn)
                .await;
            let _: Result<(), _> = conn.del(&self.lock_key).await;
        }
    }

    fn from_copy(document: Vec<u8>) -> Result<Fetched, FetchError> {
        let (keys, _) =
            parse_jwks(&document).map_err(|_| FetchError::Document("shared copy is not a JWKS"))?;
        Ok(Fetched::Keys {
            keys,
            validators: Validators::default(),
            max_age: None,
            document,
        })
    }
}

#[async_trait]
impl KeySource for RedisSharedJwks {
    async fn fetch(
        &self,
        validators: &Validators,
        reason: FetchReason,
    ) -> Result<Fetched, FetchError> {
        let max_age = match reason {
            FetchReason::Scheduled => self.fresh_for,
            FetchReason::UnknownKid => self.fresh_for_unknown_kid,
        };
        if let Some(doc) = self.fresh_copy(max_age).await {
            return Self::from_copy(doc);
        }
        if !self.try_lock().await {
            // Another instance is fetching (or Redis is unreachable): give it a moment, then
            // fetch ourselves rather than wait on it indefinitely.
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Some(doc) = self.fresh_copy(max_age).await {
                    return Self::from_copy(doc);
                }
            }
        }
        let fetched = self.inner.fetch(validators, reason).await?;
        if let Fetched::Keys { document, .. } = &fetched {
            self.share(document).await;
        }
        Ok(fetched)
    }

    fn describe(&self) -> String {
        format!("{} (shared through Redis)", self.inner.describe())
    }
}
