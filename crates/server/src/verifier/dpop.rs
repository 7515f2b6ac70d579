//! DPoP for the verifier: its settings from `[auth]`, and the proof-id cache. With Redis the
//! cache is shared (`SET NX PX`, so a proof used on one instance is refused on every other);
//! without, it is this process's memory. See docs/security.md, "DPoP".

use crate::config::{AuthConfig, Config};
use async_trait::async_trait;
use portcullis_auth::dpop::{
    DpopConfig, MemoryReplay, NonceKey, ProofAlg, ReplayCache, ReplayUnavailable,
};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Entries kept in memory per instance; at the default window that is far above any rate one
/// instance serves, and it bounds memory whatever clients send.
const MEMORY_ENTRIES: u64 = 1_000_000;
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The DPoP settings and the replay cache for `config`, whose resource URL is `resource`.
pub fn setup(
    config: &Config,
    resource: &Url,
) -> anyhow::Result<(DpopConfig, Arc<dyn ReplayCache>)> {
    let auth = &config.auth;
    let dpop = DpopConfig {
        resource: resource.clone(),
        algorithms: algorithms(auth),
        max_age: Duration::from_secs(auth.dpop_max_age_secs),
        leeway: Duration::from_secs(auth.leeway_secs),
        nonce: auth.dpop_nonce.then(|| nonce_key(config)),
    };
    let window = dpop.max_age + dpop.leeway * 2;
    let local = MemoryReplay::new(window, MEMORY_ENTRIES);
    let replay: Arc<dyn ReplayCache> = match &config.redis_url {
        Some(url) => Arc::new(RedisReplay {
            local,
            client: redis::Client::open(url.0.expose())?,
            conn: tokio::sync::OnceCell::new(),
            prefix: format!("{}:dpop:", config.redis_prefix),
        }),
        None => Arc::new(local),
    };
    Ok((dpop, replay))
}

fn algorithms(auth: &AuthConfig) -> Vec<ProofAlg> {
    auth.dpop_algorithms
        .iter()
        .filter_map(|a| ProofAlg::from_name(a))
        .collect()
}

/// Nonces every instance accepts: keyed by the cluster secret when there is one (a key derived
/// from it, so a nonce is never a tag of anything else), by a key of this process otherwise.
fn nonce_key(config: &Config) -> NonceKey {
    let window = config.auth.dpop_nonce_secs;
    match &config.cluster_secret {
        Some(secret) => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.expose());
            let derived = aws_lc_rs::hmac::sign(&key, b"portcullis/dpop-nonce-key/v1");
            NonceKey::new(derived.as_ref(), window)
        }
        None => NonceKey::random(window),
    }
}

/// This instance's memory first (a replay here costs no round trip), then Redis for the
/// others'. Redis unreachable: the proof is refused, never accepted unchecked.
struct RedisReplay {
    local: MemoryReplay,
    client: redis::Client,
    conn: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    prefix: String,
}

impl std::fmt::Debug for RedisReplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisReplay")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisReplay {
    async fn conn(&self) -> Result<redis::aio::ConnectionManager, ReplayUnavailable> {
        let connect = self.conn.get_or_try_init(|| async {
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(REDIS_TIMEOUT))
                .set_response_timeout(Some(REDIS_TIMEOUT));
            self.client.get_connection_manager_with_config(config).await
        });
        match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
            Ok(Ok(c)) => Ok(c.clone()),
            Ok(Err(e)) => Err(ReplayUnavailable(e.to_string())),
            Err(_) => Err(ReplayUnavailable("connecting timed out".into())),
        }
    }
}

#[async_trait]
impl ReplayCache for RedisReplay {
    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, ReplayUnavailable> {
        if !self.local.first_use(key, ttl).await? {
            return Ok(false);
        }
        let mut conn = self.conn().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}{key}", self.prefix))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async(&mut conn)
            .await
            .map_err(|e| ReplayUnavailable(e.to_string()))?;
        Ok(set.is_some())
    }
}
