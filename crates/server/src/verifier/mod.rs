//! Turning the `auth` configuration into a running verifier: one provider per configured
//! issuer (by the library's profiles), each with its JWKS cache and the background task that
//! keeps it fresh.

mod dev;
mod dev_keys;
mod dpop;
mod shared_jwks;

pub use dev::{DEV_ISSUER_PATH, dev_issuer_url, open_dev_issuer};

use crate::config::{AuthConfig, AuthSettings, Config, IssuerSettings};
use anyhow::Context;
use portcullis_auth::Verifier;
use portcullis_auth::builder::KeyLayer;
use portcullis_auth::clock::Clock;
use portcullis_auth::jwks::{JwksCache, JwksConfig, KeySource};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{ClaimPath, Cognito, Kind, Provider, Roles, Settings};
use portcullis_dev_issuer::DevIssuer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The verifier and what keeps it running.
#[derive(Debug)]
pub struct AuthRuntime {
    pub verifier: Arc<Verifier>,
    /// Present with a dev issuer: served at [`DEV_ISSUER_PATH`] and used for minting.
    pub dev_issuer: Option<Arc<DevIssuer>>,
    /// Every `iss` of the issuers that name their app client in `client_id` (Cognito and the
    /// dev issuer): the tokens the `auth.client_ids` flag applies to.
    pub client_issuers: Vec<String>,
    pub refreshers: Vec<JoinHandle<()>>,
}

pub fn policy(auth: &AuthConfig) -> Policy {
    Policy {
        leeway: Duration::from_secs(auth.leeway_secs),
        max_lifetime: Duration::from_secs(auth.max_token_lifetime_secs),
        cache_max_bytes: auth.cache_max_bytes,
        ..Policy::default()
    }
}

/// Builds the providers of `settings` (resolved from `config.auth`). `addr` is the bound API
/// address, which names the dev issuer when no explicit issuer is configured. Keys load in the
/// background: readiness reports when they are there.
pub async fn build(
    config: &Config,
    settings: &AuthSettings,
    addr: SocketAddr,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<AuthRuntime> {
    let auth = &config.auth;
    let jwks_config = JwksConfig::default();
    let mut builder = Verifier::builder()
        .clock(Arc::clone(&clock))
        .policy(policy(auth))
        .jwks_config(jwks_config.clone())
        .jwks_observer(crate::metrics::jwks_observer())
        .introspection_observer(crate::metrics::introspection_observer())
        .allow_loopback_http(auth.allow_http_issuer)
        .load_in_background(true);
    if settings
        .dpop_modes()
        .iter()
        .any(|m| *m != portcullis_auth::dpop::DpopMode::Off)
    {
        let resource = crate::config::resource::effective(config.resource.as_deref(), addr)
            .map_err(|why| anyhow::anyhow!("resource: {why}"))?;
        let (dpop, replay) = dpop::setup(config, &resource)?;
        builder = builder.dpop(dpop, replay);
    }
    // With Redis, instances share one copy of each issuer's keys (one fetch per interval for
    // the whole fleet); without, or whenever Redis fails, each fetches for itself.
    if let Some(url) = &config.redis_url {
        let key = crate::cluster::key::ClusterKey::from_config(config)?;
        let client = redis::Client::open(url.0.expose()).context("configuring Redis")?;
        let prefix = config.redis_prefix.clone();
        let fresh_for = jwks_config.refresh_interval;
        let lock_for = jwks_config.fetch_timeout * 2;
        builder = builder.key_layer(KeyLayer::new(move |issuer, source| {
            Box::new(shared_jwks::RedisSharedJwks::new(
                source,
                key.clone(),
                client.clone(),
                &prefix,
                issuer,
                fresh_for,
                // Instances meeting a freshly rotated kid do so within moments of each other.
                Duration::from_secs(1),
                lock_for,
            )) as Box<dyn KeySource>
        }));
    }
    let mut dev_issuer = None;
    let mut refreshers = Vec::new();
    let mut client_issuers = Vec::new();
    for (index, issuer) in settings.issuers.iter().enumerate() {
        let introspected = settings
            .introspection
            .as_ref()
            .filter(|i| i.issuer == index);
        match issuer {
            IssuerSettings::Profile(profile) => {
                if let (Some(i), Some(url)) = (introspected, &profile.issuer) {
                    let url = if profile.kind == Kind::Cognito {
                        url.trim_end_matches('/')
                    } else {
                        url
                    };
                    builder = builder.introspection(url, i.config.clone());
                }
                if profile.kind == Kind::Cognito {
                    client_issuers.extend(cognito_issuers(profile));
                }
                builder = builder.profile(profile.as_ref().clone());
            }
            IssuerSettings::Dev {
                issuer,
                clients,
                admin_roles,
                dpop,
            } => {
                let url = issuer.clone().unwrap_or_else(|| dev_issuer_url(addr));
                if let Some(i) = introspected {
                    builder = builder.introspection(url.clone(), i.config.clone());
                }
                let dev = open_dev_issuer(&config.data_dir, &url)?;
                let source = dev_keys::DevIssuerKeys::new(Arc::clone(&dev));
                // Read in process, a refetch costs nothing: a key rotated or published at
                // /dev-issuer/faults verifies with the very next token that names it.
                let dev_jwks = JwksConfig {
                    unknown_kid_cooldown: Duration::ZERO,
                    ..jwks_config.clone()
                };
                let keys = Arc::new(
                    JwksCache::new(&url, Box::new(source), Arc::clone(&clock), dev_jwks)
                        .with_observer(crate::metrics::jwks_observer()),
                );
                // In-process keys cannot be unavailable: load them now, so the server is
                // ready the moment it listens.
                keys.refresh()
                    .await
                    .context("loading the dev issuer's keys")?;
                let groups = ClaimPath::new(Cognito::ROLES_CLAIM.to_owned())
                    .map_err(|why| anyhow::anyhow!("the dev issuer's roles claim: {why}"))?;
                let settings = Settings::new(url.clone(), Arc::clone(&keys))
                    .roles(Roles::new(Some(groups)).with_admin_roles(admin_roles.clone()))
                    .dpop(*dpop);
                let provider = Cognito::with_settings(settings, clients.clone());
                client_issuers.extend(provider.issuers());
                builder = builder.provider(Arc::new(provider));
                refreshers.push(keys.spawn_refresher_after(true));
                dev_issuer = Some(dev);
            }
        }
    }
    let verifier = builder
        .build()
        .await
        .context("building the token verifier")?;
    Ok(AuthRuntime {
        verifier: Arc::new(verifier),
        dev_issuer,
        client_issuers,
        refreshers,
    })
}

/// The `iss` values a Cognito profile accepts: its explicit issuer and aliases, or both forms
/// of its pool's issuer.
fn cognito_issuers(p: &portcullis_auth::provider::Profile) -> Vec<String> {
    let mut all = match (&p.issuer, &p.region, &p.user_pool_id) {
        (Some(i), _, _) => vec![i.trim_end_matches('/').to_owned()],
        (None, Some(r), Some(pool)) => Cognito::pool_issuers(r, pool).to_vec(),
        _ => Vec::new(),
    };
    all.extend(p.issuer_aliases.iter().cloned());
    all
}
