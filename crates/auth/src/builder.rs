//! [`VerifierBuilder`]: providers by profile, with their key sets wired inside.
//!
//! ```no_run
//! # async fn demo() -> Result<(), portcullis_auth::builder::BuildError> {
//! use portcullis_auth::Verifier;
//! let verifier = Verifier::builder()
//!     .cognito("eu-west-1", "eu-west-1_AbCdEf123", ["my-app-client"])
//!     .entra(["72f988bf-86f1-41af-91ab-2d7cd011db47"], ["api://my-api"])
//!     .build()
//!     .await?;
//! # let _ = verifier; Ok(()) }
//! ```

use crate::clock::{Clock, SystemClock};
use crate::introspection::{IntrospectionConfig, IntrospectionObserver, Introspector};
use crate::jwks::{
    DiscoveredJwks, FetchError, HttpJwks, JwksCache, JwksConfig, JwksObserver, KeySource,
    http_client,
};
use crate::policy::Policy;
use crate::provider::{
    Auth0, ClaimPath, Cognito, Entra, Google, Keycloak, Kind, Oidc, Okta, Profile, Provider, Roles,
    Settings, check_issuer_url,
};
use crate::verifier::{Verifier, VerifierError};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why a verifier cannot be built.
pub enum BuildError {
    /// A profile's setting is missing or wrong.
    #[error("{profile}: {field}: {why}")]
    Profile {
        /// The profile at fault.
        profile: Kind,
        /// Its setting at fault.
        field: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    #[error(transparent)]
    /// The providers do not make a verifier (none, or two for one issuer).
    Verifier(#[from] VerifierError),
    #[error("cannot create the HTTP client for key fetches: {0}")]
    /// The HTTP client for key fetches could not be created.
    Client(FetchError),
    /// Introspection is set for an issuer no provider answers for, twice, or with a bad
    /// setting.
    #[error("introspection for {issuer}: {why}")]
    Introspection {
        /// The issuer named with the settings.
        issuer: String,
        /// What is wrong.
        why: String,
    },
}

/// Collects profiles (and any hand-built providers), then [`build`](Self::build)s the
/// verifier: checks every setting, creates each issuer's key set, loads the keys once and
/// keeps them fresh in the background.
#[derive(Debug, Default)]
pub struct VerifierBuilder {
    profiles: Vec<Profile>,
    providers: Vec<Arc<dyn Provider>>,
    clock: Option<Arc<dyn Clock>>,
    policy: Policy,
    jwks: JwksConfig,
    observer: Option<Arc<dyn JwksObserver>>,
    allow_loopback_http: bool,
    key_layer: Option<KeyLayer>,
    load_in_background: bool,
    introspection: Vec<(String, IntrospectionConfig)>,
    introspection_observer: Option<Arc<dyn IntrospectionObserver>>,
    dpop: Option<(crate::dpop::DpopConfig, Arc<dyn crate::dpop::ReplayCache>)>,
}

type Wrap = dyn Fn(&str, Box<dyn KeySource>) -> Box<dyn KeySource> + Send + Sync;

/// Wraps each issuer's key source, given the canonical issuer: a copy of the keys shared
/// between instances, say.
#[derive(Clone)]
pub struct KeyLayer(Arc<Wrap>);

impl KeyLayer {
    /// A layer from a function given the canonical issuer and its key source.
    pub fn new(
        wrap: impl Fn(&str, Box<dyn KeySource>) -> Box<dyn KeySource> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(wrap))
    }
}

impl std::fmt::Debug for KeyLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyLayer")
    }
}

impl Verifier {
    /// A builder with no provider yet, the system clock and the default policy.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }
}

impl VerifierBuilder {
    /// Adds a provider by its profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profiles.push(profile);
        self
    }

    /// See [`Profile::cognito`].
    pub fn cognito<S: Into<String>>(
        self,
        region: &str,
        user_pool_id: &str,
        client_ids: impl IntoIterator<Item = S>,
    ) -> Self {
        self.profile(Profile::cognito(region, user_pool_id, client_ids))
    }

    /// See [`Profile::auth0`].
    pub fn auth0<S: Into<String>>(
        self,
        domain: &str,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.profile(Profile::auth0(domain, audiences))
    }

    /// See [`Profile::entra`].
    pub fn entra<S: Into<String>, T: Into<String>>(
        self,
        tenants: impl IntoIterator<Item = T>,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.profile(Profile::entra(tenants, audiences))
    }

    /// See [`Profile::keycloak`].
    pub fn keycloak<S: Into<String>>(
        self,
        issuer: &str,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.profile(Profile::keycloak(issuer, audiences))
    }

    /// See [`Profile::okta`].
    pub fn okta<S: Into<String>>(
        self,
        issuer: &str,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.profile(Profile::okta(issuer, audiences))
    }

    /// See [`Profile::google`].
    pub fn google<S: Into<String>>(self, client_ids: impl IntoIterator<Item = S>) -> Self {
        self.profile(Profile::google(client_ids))
    }

    /// See [`Profile::oidc`].
    pub fn oidc<S: Into<String>>(
        self,
        issuer: &str,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.profile(Profile::oidc(issuer, audiences))
    }

    /// A provider built by hand (the embedded dev issuer, say). Its keys are the caller's to
    /// load and refresh.
    pub fn provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// The clock every time check reads (the system clock by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The time rules and verified-token cache limits.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Key-set refresh interval, refetch cooldown, maximum staleness, fetch timeout.
    pub fn jwks_config(mut self, config: JwksConfig) -> Self {
        self.jwks = config;
        self
    }

    /// Tells `observer` about every key fetch.
    pub fn jwks_observer(mut self, observer: Arc<dyn JwksObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Allows `http://` issuers on loopback addresses (local development and tests only).
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// Returns from [`build`](Self::build) without waiting for the first key loads, which
    /// then run in the background (a server that reports readiness on its own, say).
    pub fn load_in_background(mut self, background: bool) -> Self {
        self.load_in_background = background;
        self
    }

    /// Puts `layer` around the key source of every profile's issuer.
    /// DPoP checks (RFC 9449) for the issuers whose profile turns them on, with `replay` as
    /// the proof-id cache (shared between instances when there are several).
    pub fn dpop(
        mut self,
        config: crate::dpop::DpopConfig,
        replay: Arc<dyn crate::dpop::ReplayCache>,
    ) -> Self {
        self.dpop = Some((config, replay));
        self
    }

    /// Wraps every issuer's key source with `layer` (for example, a key set shared between
    /// instances).
    pub fn key_layer(mut self, layer: KeyLayer) -> Self {
        self.key_layer = Some(layer);
        self
    }

    /// Introspects opaque tokens at `issuer`'s endpoint (RFC 7662). `issuer` is any `iss` of
    /// a configured provider; at most one issuer may introspect, since an opaque token does
    /// not say whose it is and must not be sent to anyone else.
    pub fn introspection(mut self, issuer: impl Into<String>, config: IntrospectionConfig) -> Self {
        self.introspection.push((issuer.into(), config));
        self
    }

    /// Tells `observer` about every introspection call.
    pub fn introspection_observer(mut self, observer: Arc<dyn IntrospectionObserver>) -> Self {
        self.introspection_observer = Some(observer);
        self
    }

    /// Checks every profile, creates the key sets, loads them once (concurrently; an issuer
    /// that cannot be reached yet is retried in the background, and its tokens are refused
    /// with `keys_unavailable` until it answers), and builds the verifier.
    pub async fn build(self) -> Result<Verifier, BuildError> {
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let client = http_client(self.jwks.fetch_timeout).map_err(BuildError::Client)?;
        let wiring = Wiring {
            client,
            clock: Arc::clone(&clock),
            jwks: self.jwks.clone(),
            observer: self.observer.clone(),
            allow_http: self.allow_loopback_http,
            layer: self.key_layer.clone(),
        };
        let mut providers = self.providers;
        let mut caches = Vec::new();
        for profile in &self.profiles {
            for (provider, keys) in wiring.providers(profile)? {
                providers.push(provider);
                caches.push(keys);
            }
        }
        let mut verifier = Verifier::new(providers, Arc::clone(&clock), self.policy)?;
        if let Some((issuer, config)) = self.introspection.first() {
            let fail = |why: String| BuildError::Introspection {
                issuer: issuer.clone(),
                why,
            };
            if self.introspection.len() > 1 {
                return Err(fail(
                    "only one issuer may introspect opaque tokens".to_owned(),
                ));
            }
            let provider = verifier
                .provider_for(issuer)
                .cloned()
                .ok_or_else(|| fail("no configured provider has this issuer".to_owned()))?;
            let mut introspector =
                Introspector::new(provider, config.clone(), self.allow_loopback_http)
                    .map_err(|e| fail(e.to_string()))?;
            if let Some(o) = &self.introspection_observer {
                introspector = introspector.with_observer(Arc::clone(o));
            }
            verifier = verifier.with_introspector(introspector);
        }
        if let Some((config, replay)) = self.dpop {
            verifier = verifier.with_dpop(crate::dpop::Dpop::new(config, replay, clock));
        }
        if self.load_in_background {
            for keys in caches {
                // Dropped handle: the task ends by itself once the verifier is dropped.
                drop(keys.spawn_refresher());
            }
            return Ok(verifier);
        }
        let mut loads = tokio::task::JoinSet::new();
        for keys in caches {
            loads.spawn(async move {
                let loaded = keys.refresh().await.is_ok();
                // Dropped handle: the task ends by itself once the verifier is dropped.
                drop(keys.spawn_refresher_after(loaded));
            });
        }
        while loads.join_next().await.is_some() {}
        Ok(verifier)
    }
}

struct Wiring {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    jwks: JwksConfig,
    observer: Option<Arc<dyn JwksObserver>>,
    allow_http: bool,
    layer: Option<KeyLayer>,
}

impl Profile {
    /// The checks [`VerifierBuilder::build`] makes of this profile, with the setting at fault
    /// named, without creating a key set or fetching anything: for configuration loaders that
    /// must refuse a bad profile before they start.
    pub fn check(&self, allow_loopback_http: bool) -> Result<(), BuildError> {
        let wiring = Wiring {
            client: http_client(JwksConfig::default().fetch_timeout).map_err(BuildError::Client)?,
            clock: Arc::new(SystemClock),
            jwks: JwksConfig::default(),
            observer: None,
            allow_http: allow_loopback_http,
            layer: None,
        };
        wiring.providers(self).map(drop)
    }
}

type Built = (Arc<dyn Provider>, Arc<JwksCache>);

impl Wiring {
    fn providers(&self, p: &Profile) -> Result<Vec<Built>, BuildError> {
        let fail = |field, why| BuildError::Profile {
            profile: p.kind,
            field,
            why,
        };
        let roles_claim = match &p.roles_claim {
            Some(path) => {
                Some(ClaimPath::new(path.clone()).map_err(|why| fail("roles_claim", why))?)
            }
            None => default_roles_claim(p.kind)
                .map(|c| ClaimPath::new(c).map_err(|why| fail("roles_claim", why)))
                .transpose()?,
        };
        let mut roles = Roles::new(roles_claim);
        if let Some(admin) = &p.admin_roles {
            roles = roles.with_admin_roles(admin.clone());
        }
        if p.algorithms.as_ref().is_some_and(Vec::is_empty) {
            return Err(fail("algorithms", "must name at least one algorithm"));
        }
        if p.issuer_aliases
            .iter()
            .any(|a| a.is_empty() || a.contains(char::is_whitespace))
        {
            return Err(fail(
                "issuer_aliases",
                "an alias is empty or contains whitespace",
            ));
        }
        let nonempty = |list: &[String], field| {
            if list.is_empty() || list.iter().any(String::is_empty) {
                Err(fail(
                    field,
                    "must name at least one value, none of them empty",
                ))
            } else {
                Ok(())
            }
        };
        let issuer = p.issuer.as_deref().map(|i| i.to_owned());
        let settings = |issuer: String, aliases: Vec<String>, keys: Arc<JwksCache>| {
            let mut s = Settings::new(issuer, keys)
                .aliases(aliases)
                .roles(roles.clone());
            if let Some(algs) = &p.algorithms {
                s = s.algorithms(algs.clone());
            }
            s.dpop(p.dpop)
        };
        let aliases = p.issuer_aliases.clone();
        let one = |provider: Arc<dyn Provider>, keys| Ok(vec![(provider, keys)]);
        match p.kind {
            Kind::Cognito => {
                nonempty(&p.client_ids, "client_ids")?;
                let (canonical, mut all) = match issuer {
                    Some(i) => (i.trim_end_matches('/').to_owned(), aliases),
                    None => {
                        let region = p.region.as_deref().unwrap_or_default();
                        let pool = p.user_pool_id.as_deref().unwrap_or_default();
                        if region.is_empty() || !pool.starts_with(&format!("{region}_")) {
                            return Err(fail(
                                "user_pool_id",
                                "must be the pool id of the region (`{region}_...`), or set issuer",
                            ));
                        }
                        let [original, updated] = Cognito::pool_issuers(region, pool);
                        (original, std::iter::once(updated).chain(aliases).collect())
                    }
                };
                all.retain(|a| *a != canonical);
                let keys = self.keys(
                    &canonical,
                    Box::new(HttpJwks::new(
                        self.client.clone(),
                        Cognito::jwks_url(&canonical),
                    )),
                    p.kind,
                )?;
                let provider = Cognito::with_settings(
                    settings(canonical, all, Arc::clone(&keys)),
                    p.client_ids.clone(),
                );
                one(Arc::new(provider), keys)
            }
            Kind::Auth0 => {
                nonempty(&p.audiences, "audiences")?;
                let canonical = match (issuer, p.domain.as_deref()) {
                    // Auth0's tokens always carry the slash; an issuer configured without it
                    // would match none of them.
                    (Some(i), _) => format!("{}/", i.trim_end_matches('/')),
                    (None, Some(d)) if !d.is_empty() => Auth0::tenant_issuer(d),
                    _ => {
                        return Err(fail(
                            "domain",
                            "names no tenant or custom domain, and no issuer is set",
                        ));
                    }
                };
                if p.audiences.contains(&Auth0::userinfo_audience(&canonical)) {
                    return Err(fail(
                        "audiences",
                        "the tenant's /userinfo audience is Auth0's own, never this API's",
                    ));
                }
                let keys = self.discovered(&canonical, p.kind)?;
                let provider = Auth0::with_settings(
                    settings(canonical, aliases, Arc::clone(&keys)),
                    p.audiences.clone(),
                );
                one(Arc::new(provider), keys)
            }
            Kind::Entra => {
                nonempty(&p.audiences, "audiences")?;
                nonempty(&p.tenants, "tenants")?;
                if !p.tenants.iter().all(|t| Entra::is_tenant_id(t)) {
                    return Err(fail(
                        "tenants",
                        "a tenant is not a tenant id (a GUID); `common`, `organizations` and domain names are not tenants",
                    ));
                }
                if issuer.is_some() && p.tenants.len() > 1 {
                    return Err(fail(
                        "issuer",
                        "an explicit issuer names one tenant; configure one provider per tenant",
                    ));
                }
                let mut built = Vec::new();
                for tid in &p.tenants {
                    let tid = tid.to_ascii_lowercase();
                    let (canonical, all, keys) = match &issuer {
                        Some(i) => {
                            let keys = self.discovered(i, p.kind)?;
                            (i.clone(), aliases.clone(), keys)
                        }
                        None => {
                            let v2 = Entra::v2_issuer(&tid);
                            let source = HttpJwks::new(self.client.clone(), Entra::jwks_url(&tid));
                            let keys = self.keys(&v2, Box::new(source), p.kind)?;
                            let all = std::iter::once(Entra::v1_issuer(&tid))
                                .chain(aliases.clone())
                                .collect();
                            (v2, all, keys)
                        }
                    };
                    let provider = Entra::with_settings(
                        settings(canonical, all, Arc::clone(&keys)),
                        tid,
                        p.audiences.clone(),
                    );
                    built.push((Arc::new(provider) as Arc<dyn Provider>, keys));
                }
                Ok(built)
            }
            Kind::Keycloak => {
                nonempty(&p.audiences, "audiences")?;
                if p.audiences.iter().any(|a| a == Keycloak::ACCOUNT_AUDIENCE) {
                    return Err(fail(
                        "audiences",
                        "`account` is Keycloak's account console, in every token by default; add an audience mapper for this API",
                    ));
                }
                let canonical = issuer.ok_or_else(|| {
                    fail("issuer", "is required (`https://{host}/realms/{realm}`)")
                })?;
                let keys = self.discovered(&canonical, p.kind)?;
                let provider = Keycloak::with_settings(
                    settings(canonical, aliases, Arc::clone(&keys)),
                    p.audiences.clone(),
                );
                one(Arc::new(provider), keys)
            }
            Kind::Okta => {
                nonempty(&p.audiences, "audiences")?;
                let canonical = issuer.ok_or_else(|| {
                    fail("issuer", "is required (`https://{org}/oauth2/{server}`)")
                })?;
                if !Okta::is_custom_server(&canonical) {
                    return Err(fail(
                        "issuer",
                        "names the org authorization server, whose access tokens only Okta can validate; use a custom authorization server (`https://{org}/oauth2/{server}`)",
                    ));
                }
                let keys = self.discovered(&canonical, p.kind)?;
                let provider = Okta::with_settings(
                    settings(canonical, aliases, Arc::clone(&keys)),
                    p.audiences.clone(),
                    p.client_ids.clone(),
                );
                one(Arc::new(provider), keys)
            }
            Kind::Google => {
                nonempty(&p.client_ids, "client_ids")?;
                let canonical = issuer.unwrap_or_else(|| Google::ISSUER.to_owned());
                let [_, bare] = Google::issuer_forms(&canonical);
                let keys = self.discovered(&canonical, p.kind)?;
                let all = std::iter::once(bare).chain(aliases).collect();
                let provider = Google::with_settings(
                    settings(canonical, all, Arc::clone(&keys)),
                    p.client_ids.clone(),
                    p.hosted_domains.clone(),
                );
                one(Arc::new(provider), keys)
            }
            Kind::Oidc => {
                nonempty(&p.audiences, "audiences")?;
                let canonical = issuer.ok_or_else(|| fail("issuer", "is required"))?;
                let keys = self.discovered(&canonical, p.kind)?;
                let provider = Oidc::with_settings(
                    settings(canonical, aliases, Arc::clone(&keys)),
                    p.audiences.clone(),
                );
                one(Arc::new(provider), keys)
            }
        }
    }

    fn discovered(&self, issuer: &str, kind: Kind) -> Result<Arc<JwksCache>, BuildError> {
        let source = DiscoveredJwks::new(self.client.clone(), issuer, self.allow_http);
        self.keys(issuer, Box::new(source), kind)
    }

    fn keys(
        &self,
        issuer: &str,
        source: Box<dyn KeySource>,
        kind: Kind,
    ) -> Result<Arc<JwksCache>, BuildError> {
        check_issuer_url(issuer, self.allow_http).map_err(|why| BuildError::Profile {
            profile: kind,
            field: "issuer",
            why,
        })?;
        let source = match &self.layer {
            Some(layer) => (layer.0)(issuer, source),
            None => source,
        };
        let mut cache = JwksCache::new(issuer, source, Arc::clone(&self.clock), self.jwks.clone());
        if let Some(o) = &self.observer {
            cache = cache.with_observer(Arc::clone(o));
        }
        Ok(Arc::new(cache))
    }
}

fn default_roles_claim(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Cognito => Some(Cognito::ROLES_CLAIM),
        Kind::Auth0 => Some(Auth0::ROLES_CLAIM),
        Kind::Entra => Some(Entra::ROLES_CLAIM),
        Kind::Keycloak => Some(Keycloak::ROLES_CLAIM),
        Kind::Okta => Some(Okta::ROLES_CLAIM),
        Kind::Google => None,
        Kind::Oidc => Some(Oidc::ROLES_CLAIM),
    }
}
