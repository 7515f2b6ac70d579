//! Turning the `auth` configuration into a running verifier: one provider per configured
//! issuer, each with its JWKS cache and the background task that keeps it fresh.

mod dev;
mod shared_jwks;

pub use dev::{DEV_ISSUER_PATH, dev_issuer_url, open_dev_issuer};

use crate::config::{AuthConfig, AuthSettings, Config};
use anyhow::Context;
use portcullis_auth::Verifier;
use portcullis_auth::clock::Clock;
use portcullis_auth::jwks::{
    DiscoveredJwks, HttpJwks, JwksCache, JwksConfig, StaticJwks, http_client,
};
use portcullis_auth::keys::Alg;
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{Cognito, Oidc, Provider};
use portcullis_dev_issuer::DevIssuer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The verifier and what keeps it running.
#[derive(Debug)]
pub struct AuthRuntime {
    pub verifier: Arc<Verifier>,
    /// Present under the dev provider: served at [`DEV_ISSUER_PATH`] and used for minting.
    pub dev_issuer: Option<Arc<DevIssuer>>,
    pub refreshers: Vec<JoinHandle<()>>,
}

/// `auth.algorithms`, validated at load time to name only algorithms that exist.
fn algorithms(auth: &AuthConfig) -> Vec<Alg> {
    auth.algorithms
        .iter()
        .filter_map(|a| Alg::from_name(a))
        .collect()
}

pub fn policy(auth: &AuthConfig) -> Policy {
    Policy {
        leeway: Duration::from_secs(auth.leeway_secs),
        max_lifetime: Duration::from_secs(auth.max_token_lifetime_secs),
        ..Policy::default()
    }
}

/// Builds the provider of `settings` (resolved from `config.auth`). `addr` is the bound API
/// address, which names the dev issuer when no explicit issuer is configured.
pub async fn build(
    config: &Config,
    settings: &AuthSettings,
    addr: SocketAddr,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<AuthRuntime> {
    let auth = &config.auth;
    let jwks_config = JwksConfig::default();
    let cache = |issuer: &str, source: Box<dyn portcullis_auth::jwks::KeySource>| {
        Arc::new(
            JwksCache::new(issuer, source, Arc::clone(&clock), jwks_config.clone())
                .with_observer(crate::metrics::jwks_observer()),
        )
    };
    // With Redis, instances share one copy of each issuer's keys (one fetch per interval for
    // the whole fleet); without, or whenever Redis fails, each fetches for itself.
    let shared = |issuer: &str,
                  source: Box<dyn portcullis_auth::jwks::KeySource>|
     -> anyhow::Result<Box<dyn portcullis_auth::jwks::KeySource>> {
        Ok(match &config.redis_url {
            Some(url) => Box::new(shared_jwks::RedisSharedJwks::new(
                source,
                crate::cluster::key::ClusterKey::from_config(config)?,
                url.0.expose(),
                &config.redis_prefix,
                issuer,
                jwks_config.refresh_interval,
                // Instances meeting a freshly rotated kid do so within moments of each other.
                std::time::Duration::from_secs(1),
                jwks_config.fetch_timeout * 2,
            )?),
            None => source,
        })
    };
    let (provider, keys, dev_issuer): (Arc<dyn Provider>, Arc<JwksCache>, _) = match settings {
        AuthSettings::Cognito { issuer, clients } => {
            let client = http_client(jwks_config.fetch_timeout)?;
            let source = Box::new(HttpJwks::new(client, Cognito::jwks_url(issuer)));
            let keys = cache(issuer, shared(issuer, source)?);
            let p = Cognito::new(issuer.clone(), clients.clone(), Arc::clone(&keys))
                .with_algorithms(algorithms(auth));
            (Arc::new(p), keys, None)
        }
        AuthSettings::Oidc { issuer, audiences } => {
            let client = http_client(jwks_config.fetch_timeout)?;
            let source = DiscoveredJwks::new(client, issuer.clone(), auth.allow_http_issuer);
            let keys = cache(issuer, shared(issuer, Box::new(source))?);
            let p = Oidc::new(
                issuer.clone(),
                audiences.clone(),
                algorithms(auth),
                Arc::clone(&keys),
            );
            (Arc::new(p), keys, None)
        }
        AuthSettings::Dev { issuer, clients } => {
            let url = issuer.clone().unwrap_or_else(|| dev_issuer_url(addr));
            let issuer = open_dev_issuer(&config.data_dir, &url)?;
            let published = Arc::clone(&issuer);
            let source = StaticJwks::new("embedded dev issuer", move || {
                published.jwks().to_string().into_bytes()
            });
            let keys = cache(&url, Box::new(source));
            // In-process keys cannot be unavailable: load them now, so the server is ready
            // the moment it listens.
            keys.refresh()
                .await
                .context("loading the dev issuer's keys")?;
            let p = Cognito::new(url, clients.clone(), Arc::clone(&keys));
            (Arc::new(p), keys, Some(issuer))
        }
    };
    let verifier = Verifier::new(vec![provider], Arc::clone(&clock), policy(auth))
        .context("building the token verifier")?;
    Ok(AuthRuntime {
        verifier: Arc::new(verifier),
        dev_issuer,
        refreshers: vec![keys.spawn_refresher()],
    })
}
