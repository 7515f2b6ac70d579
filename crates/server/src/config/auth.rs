//! `[auth]`: how tokens are verified. [`AuthConfig`] is what the operator wrote: either the
//! short form of one issuer (`provider`, `region`, `issuer`, ...) or a list of
//! `[[auth.issuers]]` tables. [`AuthConfig::resolve`] checks it once and turns it into
//! [`AuthSettings`], the issuers with everything they need, which the verifier and the flags
//! are built from.

use super::ConfigError;
use super::introspection::IntrospectionToml;
use super::list;
use portcullis_auth::builder::BuildError;
use portcullis_auth::dpop::{DpopMode, ProofAlg};
use portcullis_auth::introspection::IntrospectionConfig;
use portcullis_auth::keys::Alg;
use portcullis_auth::provider::{Cognito, Kind, Profile, check_issuer_url};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthProvider {
    Cognito,
    Oidc,
    Dev,
}

/// The profile of one `[[auth.issuers]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuerProfile {
    Cognito,
    Auth0,
    Entra,
    Keycloak,
    Okta,
    Google,
    Oidc,
    Dev,
}

/// One `[[auth.issuers]]` table. Which keys a profile requires is in docs/providers.md.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IssuerConfig {
    pub profile: Option<IssuerProfile>,
    pub issuer: Option<String>,
    pub issuer_aliases: Vec<String>,
    pub audiences: Vec<String>,
    pub client_ids: Vec<String>,
    pub roles_claim: Option<String>,
    /// `["portcullis-admin"]` when unset.
    pub admin_roles: Option<Vec<String>>,
    /// `["RS256"]` when unset.
    pub algorithms: Option<Vec<String>>,
    pub region: Option<String>,
    pub user_pool_id: Option<String>,
    /// Auth0's tenant or custom domain.
    pub domain: Option<String>,
    /// One Entra tenant; `tenants` lists several.
    pub tenant_id: Option<String>,
    pub tenants: Vec<String>,
    pub hosted_domains: Vec<String>,
    /// Opaque tokens checked at this issuer's RFC 7662 endpoint (at most one entry).
    pub introspection: Option<IntrospectionToml>,
    /// DPoP-bound tokens (RFC 9449) from this issuer: `off`, `allowed` or `required`.
    pub dpop: DpopMode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// No default: `serve` refuses to guess how tokens are verified.
    pub provider: Option<AuthProvider>,
    /// Several issuers at once; instead of `provider` and its settings.
    pub issuers: Vec<IssuerConfig>,
    pub region: Option<String>,
    pub user_pool_id: Option<String>,
    pub issuer: Option<String>,
    #[serde(deserialize_with = "list::comma_list")]
    pub client_ids: Vec<String>,
    #[serde(deserialize_with = "list::comma_list")]
    pub audiences: Vec<String>,
    pub allow_http_issuer: bool,
    /// The admin role of the one issuer of `provider`.
    pub admin_group: String,
    /// Signature algorithms accepted from the issuer: `RS256` (the default, what Cognito uses)
    /// and, opted into, `ES256`. `none` and HMAC algorithms cannot be configured at all.
    #[serde(deserialize_with = "list::comma_list")]
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_secs: u64,
    /// Longest accepted token lifetime (`exp - iat`).
    pub max_token_lifetime_secs: u64,
    /// How long a logged-out refresh session (`origin_jti`) stays refused. Set it to at least
    /// the refresh-token lifetime of the pool's app clients: past it, access tokens refreshed
    /// from a logged-out session would be accepted again.
    pub session_revocation_days: u32,
    /// DPoP for the one issuer of `provider` (each `[[auth.issuers]]` entry has its own).
    pub dpop: DpopMode,
    /// Algorithms a DPoP proof may be signed with (ES256, RS256, PS256, EdDSA).
    #[serde(deserialize_with = "list::comma_list")]
    pub dpop_algorithms: Vec<String>,
    /// How old a proof's `iat` may be; `leeway_secs` is tolerated on top, both ways.
    pub dpop_max_age_secs: u64,
    /// Require server nonces in proofs (`DPoP-Nonce`, `use_dpop_nonce`).
    pub dpop_nonce: bool,
    /// How long a server nonce is good for (it is accepted for up to twice this).
    pub dpop_nonce_secs: u64,
    /// Memory the verified-token cache may use, in bytes.
    pub cache_max_bytes: u64,
    /// Memory the principal cache (users and their memberships) may use, in bytes.
    pub principal_cache_max_bytes: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            provider: None,
            issuers: Vec::new(),
            region: None,
            user_pool_id: None,
            issuer: None,
            client_ids: Vec::new(),
            audiences: Vec::new(),
            allow_http_issuer: false,
            admin_group: "portcullis-admin".into(),
            algorithms: vec!["RS256".into()],
            leeway_secs: 30,
            max_token_lifetime_secs: 24 * 60 * 60,
            session_revocation_days: 30,
            dpop: DpopMode::Off,
            dpop_algorithms: ProofAlg::ALL.iter().map(|a| a.name().to_owned()).collect(),
            dpop_max_age_secs: 60,
            dpop_nonce: false,
            dpop_nonce_secs: 60,
            cache_max_bytes: portcullis_auth::policy::DEFAULT_CACHE_MAX_BYTES,
            principal_cache_max_bytes: crate::principal::DEFAULT_MAX_BYTES,
        }
    }
}

/// One verified issuer. Profiles have passed every check the verifier builder makes; the dev
/// issuer's URL is only a name.
#[derive(Debug, Clone, PartialEq)]
pub enum IssuerSettings {
    Profile(Box<Profile>),
    Dev {
        /// `None`: named after the bound API address, known only once it listens.
        issuer: Option<String>,
        /// The configured client ids, or the dev issuer's own client when none is configured.
        clients: Vec<String>,
        admin_roles: Vec<String>,
        dpop: DpopMode,
    },
}

/// The verified issuers, never empty, at most one of them the dev issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    pub issuers: Vec<IssuerSettings>,
    /// The one issuer whose opaque tokens are introspected, if any.
    pub introspection: Option<IntrospectionSettings>,
}

/// Introspection for the issuer at `issuer` in [`AuthSettings::issuers`].
#[derive(Debug, Clone, PartialEq)]
pub struct IntrospectionSettings {
    pub issuer: usize,
    pub config: IntrospectionConfig,
}

impl AuthSettings {
    /// The app client ids the verifier accepts from the issuers that check `client_id`
    /// (Cognito and the dev issuer); the `auth.client_ids` flag may only narrow them. The
    /// other profiles match tokens by audience, so they add none.
    pub fn accepted_clients(&self) -> Vec<String> {
        let mut clients: Vec<String> = Vec::new();
        for issuer in &self.issuers {
            let own = match issuer {
                IssuerSettings::Profile(p) if p.kind == Kind::Cognito => &p.client_ids,
                IssuerSettings::Dev { clients, .. } => clients,
                IssuerSettings::Profile(_) => continue,
            };
            for c in own {
                if !clients.contains(c) {
                    clients.push(c.clone());
                }
            }
        }
        clients
    }

    /// Adds app clients to the dev issuer's accepted ones (those of the identity provider of
    /// `portcullis dev`).
    pub fn accept_dev_clients(&mut self, ids: &[String]) {
        for issuer in &mut self.issuers {
            if let IssuerSettings::Dev { clients, .. } = issuer {
                for id in ids {
                    if !clients.contains(id) {
                        clients.push(id.clone());
                    }
                }
            }
        }
    }

    /// Each issuer's DPoP mode.
    pub fn dpop_modes(&self) -> Vec<DpopMode> {
        self.issuers
            .iter()
            .map(|i| match i {
                IssuerSettings::Profile(p) => p.dpop,
                IssuerSettings::Dev { dpop, .. } => *dpop,
            })
            .collect()
    }

    /// The dev issuer's settings, if it is one of the issuers.
    pub fn dev(&self) -> Option<&IssuerSettings> {
        self.issuers
            .iter()
            .find(|i| matches!(i, IssuerSettings::Dev { .. }))
    }
}

impl AuthConfig {
    /// Checks that hold whatever the provider.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.algorithms.is_empty()
            || self
                .algorithms
                .iter()
                .any(|a| portcullis_auth::keys::Alg::from_name(a).is_none())
        {
            return Err(ConfigError::setting(
                "auth.algorithms",
                "must list RS256 and/or ES256",
            ));
        }
        // An empty group would make every token listing an empty group a platform admin.
        if self.admin_group.trim().is_empty() {
            return Err(ConfigError::setting(
                "auth.admin_group",
                "must name a group (platform admins are the members of that IdP group)",
            ));
        }
        if self.dpop_algorithms.is_empty()
            || self
                .dpop_algorithms
                .iter()
                .any(|a| ProofAlg::from_name(a).is_none())
        {
            return Err(ConfigError::setting(
                "auth.dpop_algorithms",
                "must list some of ES256, RS256, PS256, EdDSA",
            ));
        }
        if !(1..=3600).contains(&self.dpop_max_age_secs) {
            return Err(ConfigError::setting(
                "auth.dpop_max_age_secs",
                "must be between 1 and 3600",
            ));
        }
        if !(1..=3600).contains(&self.dpop_nonce_secs) {
            return Err(ConfigError::setting(
                "auth.dpop_nonce_secs",
                "must be between 1 and 3600",
            ));
        }
        if !(1..=3650).contains(&self.session_revocation_days) {
            return Err(ConfigError::setting(
                "auth.session_revocation_days",
                "must be between 1 and 3650",
            ));
        }
        Ok(())
    }

    /// The issuers' settings, or the first one they cannot work without.
    pub fn resolve(&self) -> Result<AuthSettings, ConfigError> {
        if !self.issuers.is_empty() {
            return self.resolve_list();
        }
        let one = match self.provider {
            None => {
                return Err(ConfigError::setting(
                    "auth.provider",
                    "`serve` needs an auth provider: set PORTCULLIS_AUTH__PROVIDER to cognito or \
                     oidc, or list [[auth.issuers]] (or run `portcullis dev` for local development)",
                ));
            }
            Some(AuthProvider::Cognito) => {
                let mut profile = match (&self.issuer, &self.region, &self.user_pool_id) {
                    (Some(issuer), _, _) => {
                        self.check_issuer("auth.issuer", issuer)?;
                        // The explicit issuer names the pool; there is no region to derive.
                        Profile {
                            region: None,
                            user_pool_id: None,
                            ..Profile::cognito("", "", self.client_ids.clone())
                        }
                        .issuer(issuer.trim_end_matches('/'))
                    }
                    (None, None, _) => {
                        return Err(ConfigError::setting(
                            "auth.region",
                            "required for cognito unless auth.issuer is set",
                        ));
                    }
                    (None, Some(_), None) => {
                        return Err(ConfigError::setting(
                            "auth.user_pool_id",
                            "required for cognito unless auth.issuer is set",
                        ));
                    }
                    (None, Some(region), Some(pool)) => {
                        // Only a region with URL syntax in it can spoil the derived issuer.
                        self.check_issuer("auth.region", &Cognito::pool_issuer(region, pool))?;
                        Profile::cognito(region, pool, self.client_ids.clone())
                    }
                };
                if self.client_ids.is_empty() {
                    return Err(ConfigError::setting(
                        "auth.client_ids",
                        "cognito needs at least one accepted app client id",
                    ));
                }
                profile = profile
                    .admin_roles([self.admin_group.clone()])
                    .algorithms(algorithms(&self.algorithms));
                profile.dpop = self.dpop;
                self.check_profile(&profile, |field| {
                    ConfigError::setting(&format!("auth.{field}"), "")
                })?;
                IssuerSettings::Profile(Box::new(profile))
            }
            Some(AuthProvider::Oidc) => {
                let Some(issuer) = &self.issuer else {
                    return Err(ConfigError::setting("auth.issuer", "required for oidc"));
                };
                self.check_issuer("auth.issuer", issuer)?;
                if self.audiences.is_empty() {
                    return Err(ConfigError::setting(
                        "auth.audiences",
                        "oidc needs at least one accepted audience",
                    ));
                }
                let mut profile = Profile::oidc(issuer.clone(), self.audiences.clone())
                    .admin_roles([self.admin_group.clone()])
                    .algorithms(algorithms(&self.algorithms));
                profile.dpop = self.dpop;
                self.check_profile(&profile, |field| {
                    ConfigError::setting(&format!("auth.{field}"), "")
                })?;
                IssuerSettings::Profile(Box::new(profile))
            }
            Some(AuthProvider::Dev) => IssuerSettings::Dev {
                issuer: self.issuer.clone(),
                clients: dev_clients(&self.client_ids),
                admin_roles: vec![self.admin_group.clone()],
                dpop: self.dpop,
            },
        };
        Ok(AuthSettings {
            issuers: vec![one],
            introspection: None,
        })
    }

    /// `[[auth.issuers]]`: every entry checked as the verifier builder would, errors named
    /// `auth.issuers[{index}].{key}`.
    fn resolve_list(&self) -> Result<AuthSettings, ConfigError> {
        // Mixing the forms would leave one of them silently unused.
        let short_form = [
            ("auth.provider", self.provider.is_some()),
            ("auth.region", self.region.is_some()),
            ("auth.user_pool_id", self.user_pool_id.is_some()),
            ("auth.issuer", self.issuer.is_some()),
            ("auth.client_ids", !self.client_ids.is_empty()),
            ("auth.audiences", !self.audiences.is_empty()),
            ("auth.dpop", self.dpop != DpopMode::Off),
        ];
        if let Some((name, _)) = short_form.iter().find(|(_, set)| *set) {
            return Err(ConfigError::setting(
                name,
                "belongs to the one-issuer form; with [[auth.issuers]] set it in an entry",
            ));
        }
        let mut issuers = Vec::with_capacity(self.issuers.len());
        for (index, entry) in self.issuers.iter().enumerate() {
            issuers.push(self.resolve_entry(index, entry)?);
        }
        if issuers
            .iter()
            .filter(|i| matches!(i, IssuerSettings::Dev { .. }))
            .count()
            > 1
        {
            return Err(ConfigError::new(
                "auth.issuers",
                "lists the dev issuer more than once",
            ));
        }
        let mut seen: Vec<&str> = Vec::new();
        for (index, issuer) in issuers.iter().enumerate() {
            if let IssuerSettings::Profile(p) = issuer
                && let Some(url) = p.issuer.as_deref()
            {
                if seen.contains(&url) {
                    return Err(ConfigError::new(
                        format!("auth.issuers[{index}].issuer"),
                        "names an issuer another entry already names",
                    ));
                }
                seen.push(url);
            }
        }
        // An opaque token does not say whose it is: it goes to one issuer's endpoint, and never
        // to an issuer that may not have minted it.
        let mut introspection = None;
        for (index, entry) in self.issuers.iter().enumerate() {
            let Some(table) = &entry.introspection else {
                continue;
            };
            let prefix = format!("auth.issuers[{index}].introspection");
            if introspection.is_some() {
                return Err(ConfigError::new(
                    prefix,
                    "only one issuer may introspect opaque tokens",
                ));
            }
            if entry.issuer.is_none() && entry.profile != Some(IssuerProfile::Dev) {
                return Err(ConfigError::new(
                    format!("auth.issuers[{index}].issuer"),
                    "required with introspection (the issuer the answers must name)",
                ));
            }
            introspection = Some(IntrospectionSettings {
                issuer: index,
                config: table.resolve(&prefix, self.allow_http_issuer)?,
            });
        }
        Ok(AuthSettings {
            issuers,
            introspection,
        })
    }

    fn resolve_entry(&self, index: usize, e: &IssuerConfig) -> Result<IssuerSettings, ConfigError> {
        let key = |name: &str| format!("auth.issuers[{index}].{name}");
        let err = |name: &str, why: &str| ConfigError::new(key(name), why);
        let Some(kind) = e.profile else {
            return Err(err(
                "profile",
                "required: cognito, auth0, entra, keycloak, okta, google, oidc or dev",
            ));
        };
        let algorithms = match &e.algorithms {
            None => None,
            Some(names) => {
                let algs: Vec<Alg> = names.iter().filter_map(|a| Alg::from_name(a)).collect();
                if algs.is_empty() || algs.len() != names.len() {
                    return Err(err("algorithms", "must list RS256 and/or ES256"));
                }
                Some(algs)
            }
        };
        if let Some(roles) = &e.admin_roles
            && (roles.is_empty() || roles.iter().any(|r| r.trim().is_empty()))
        {
            // An empty role would make every token listing an empty role a platform admin.
            return Err(err(
                "admin_roles",
                "must name at least one role, none of them empty",
            ));
        }
        let kind = match kind {
            IssuerProfile::Dev => {
                let unused = [
                    ("issuer_aliases", !e.issuer_aliases.is_empty()),
                    ("audiences", !e.audiences.is_empty()),
                    ("roles_claim", e.roles_claim.is_some()),
                    ("algorithms", e.algorithms.is_some()),
                    ("region", e.region.is_some()),
                    ("user_pool_id", e.user_pool_id.is_some()),
                    ("domain", e.domain.is_some()),
                    ("tenant_id", e.tenant_id.is_some()),
                    ("tenants", !e.tenants.is_empty()),
                    ("hosted_domains", !e.hosted_domains.is_empty()),
                ];
                if let Some((name, _)) = unused.iter().find(|(_, set)| *set) {
                    return Err(err(name, "is not a setting of the dev profile"));
                }
                return Ok(IssuerSettings::Dev {
                    issuer: e.issuer.clone(),
                    clients: dev_clients(&e.client_ids),
                    admin_roles: e.admin_roles.clone().unwrap_or_else(|| {
                        vec![portcullis_auth::provider::DEFAULT_ADMIN_ROLE.into()]
                    }),
                    dpop: e.dpop,
                });
            }
            IssuerProfile::Cognito => Kind::Cognito,
            IssuerProfile::Auth0 => Kind::Auth0,
            IssuerProfile::Entra => Kind::Entra,
            IssuerProfile::Keycloak => Kind::Keycloak,
            IssuerProfile::Okta => Kind::Okta,
            IssuerProfile::Google => Kind::Google,
            IssuerProfile::Oidc => Kind::Oidc,
        };
        // The dev issuer's URL above is only a name; every other issuer is fetched from.
        if let Some(issuer) = &e.issuer {
            self.check_issuer_named(key("issuer"), issuer)?;
        }
        // A key another profile reads would be silently ignored here.
        let foreign: &[(&str, bool, &[Kind])] = &[
            ("region", e.region.is_some(), &[Kind::Cognito]),
            ("user_pool_id", e.user_pool_id.is_some(), &[Kind::Cognito]),
            ("domain", e.domain.is_some(), &[Kind::Auth0]),
            ("tenant_id", e.tenant_id.is_some(), &[Kind::Entra]),
            ("tenants", !e.tenants.is_empty(), &[Kind::Entra]),
            (
                "hosted_domains",
                !e.hosted_domains.is_empty(),
                &[Kind::Google],
            ),
            (
                "client_ids",
                !e.client_ids.is_empty(),
                &[Kind::Cognito, Kind::Okta, Kind::Google],
            ),
            (
                "audiences",
                !e.audiences.is_empty(),
                &[
                    Kind::Auth0,
                    Kind::Entra,
                    Kind::Keycloak,
                    Kind::Okta,
                    Kind::Oidc,
                ],
            ),
        ];
        if let Some((name, ..)) = foreign
            .iter()
            .find(|(_, set, kinds)| *set && !kinds.contains(&kind))
        {
            return Err(err(
                name,
                &format!("is not a setting of the {kind} profile"),
            ));
        }
        if e.tenant_id.is_some() && !e.tenants.is_empty() {
            return Err(err("tenant_id", "set tenant_id or tenants, not both"));
        }
        let tenants = match &e.tenant_id {
            Some(t) => vec![t.clone()],
            None => e.tenants.clone(),
        };
        let profile = Profile {
            kind,
            issuer: e.issuer.clone(),
            issuer_aliases: e.issuer_aliases.clone(),
            audiences: e.audiences.clone(),
            client_ids: e.client_ids.clone(),
            region: e.region.clone(),
            user_pool_id: e.user_pool_id.clone(),
            domain: e.domain.clone(),
            tenants,
            hosted_domains: e.hosted_domains.clone(),
            roles_claim: e.roles_claim.clone(),
            admin_roles: e.admin_roles.clone(),
            algorithms,
            dpop: e.dpop,
        };
        let tenant_key = if e.tenant_id.is_some() {
            "tenant_id"
        } else {
            "tenants"
        };
        self.check_profile(&profile, |field| {
            let name = match field {
                "tenants" => tenant_key,
                // The builder names the pool for a missing region too.
                "user_pool_id" if e.region.is_none() && e.issuer.is_none() => "region",
                other => other,
            };
            ConfigError::new(key(name), "")
        })?;
        Ok(IssuerSettings::Profile(Box::new(profile)))
    }

    /// The verifier builder's own checks of `profile`, named by `name(field)`.
    fn check_profile(
        &self,
        profile: &Profile,
        name: impl Fn(&str) -> ConfigError,
    ) -> Result<(), ConfigError> {
        match profile.check(self.allow_http_issuer) {
            Ok(()) => Ok(()),
            Err(BuildError::Profile { field, why, .. }) => {
                let mut e = name(field);
                e.reason = why.to_owned();
                Err(e)
            }
            Err(other) => Err(ConfigError::new("auth", other.to_string())),
        }
    }

    fn check_issuer(&self, setting: &str, url: &str) -> Result<(), ConfigError> {
        check_issuer_url(url, self.allow_http_issuer)
            .map_err(|why| ConfigError::setting(setting, why))
    }

    fn check_issuer_named(&self, setting: String, url: &str) -> Result<(), ConfigError> {
        check_issuer_url(url, self.allow_http_issuer).map_err(|why| ConfigError::new(setting, why))
    }
}

fn algorithms(names: &[String]) -> Vec<Alg> {
    names.iter().filter_map(|a| Alg::from_name(a)).collect()
}

fn dev_clients(configured: &[String]) -> Vec<String> {
    if configured.is_empty() {
        vec![portcullis_dev_issuer::DEFAULT_CLIENT_ID.to_owned()]
    } else {
        configured.to_vec()
    }
}

#[cfg(test)]
// `Jail`'s closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::super::{Config, Profile, load};
    use super::*;
    use figment::Jail;

    fn provider(p: AuthProvider) -> AuthConfig {
        AuthConfig {
            provider: Some(p),
            ..AuthConfig::default()
        }
    }

    fn profile(s: &AuthSettings) -> &portcullis_auth::provider::Profile {
        match s.issuers.as_slice() {
            [IssuerSettings::Profile(p)] => p,
            other => panic!("one profile expected, got {other:?}"),
        }
    }

    #[test]
    fn cognito_resolves_to_the_pool_or_the_trimmed_explicit_issuer() {
        let mut a = provider(AuthProvider::Cognito);
        a.region = Some("eu-west-1".into());
        a.user_pool_id = Some("eu-west-1_abc".into());
        a.client_ids = vec!["c1".into()];
        a.admin_group = "ops".into();
        let s = a.resolve().expect("pool");
        let p = profile(&s);
        assert_eq!(p.kind, Kind::Cognito);
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.user_pool_id.as_deref(), Some("eu-west-1_abc"));
        // The short form's admin group is its issuer's admin role.
        assert_eq!(p.admin_roles, Some(vec!["ops".to_owned()]));
        a.issuer = Some("https://idp.example/pool/".into());
        let s = a.resolve().expect("explicit issuer");
        assert_eq!(
            profile(&s).issuer.as_deref(),
            Some("https://idp.example/pool")
        );
        assert_eq!(s.accepted_clients(), ["c1"]);
    }

    #[test]
    fn cognito_refuses_a_region_that_spoils_the_issuer() {
        let mut a = provider(AuthProvider::Cognito);
        a.region = Some("x@evil.example#".into());
        a.user_pool_id = Some("x@evil.example#_pool".into());
        a.client_ids = vec!["c1".into()];
        let e = a.resolve().expect_err("userinfo in the derived issuer");
        assert_eq!(e.setting, "PORTCULLIS_AUTH__REGION", "{e}");
    }

    #[test]
    fn dev_fills_in_its_default_client_once() {
        let a = provider(AuthProvider::Dev);
        let s = a.resolve().expect("dev needs nothing");
        assert_eq!(
            s.issuers,
            [IssuerSettings::Dev {
                issuer: None,
                clients: vec![portcullis_dev_issuer::DEFAULT_CLIENT_ID.to_owned()],
                admin_roles: vec!["portcullis-admin".to_owned()],
                dpop: DpopMode::Off,
            }]
        );
        let mut a = provider(AuthProvider::Dev);
        a.client_ids = vec!["mine".into()];
        assert_eq!(a.resolve().expect("valid").accepted_clients(), ["mine"]);
    }

    #[test]
    fn oidc_accepts_no_client_ids_to_narrow() {
        let mut a = provider(AuthProvider::Oidc);
        a.issuer = Some("https://idp.example".into());
        a.audiences = vec!["api".into()];
        // Configured client ids play no part in OIDC verification, so the flag cannot
        // narrow them either.
        a.client_ids = vec!["ignored".into()];
        let s = a.resolve().expect("valid");
        assert!(s.accepted_clients().is_empty());
        a.audiences.clear();
        let e = a.resolve().expect_err("no audience");
        assert_eq!(e.setting, "PORTCULLIS_AUTH__AUDIENCES");
        a.issuer = None;
        let e = a.resolve().expect_err("no issuer");
        assert_eq!(e.setting, "PORTCULLIS_AUTH__ISSUER");
    }

    const FOUR_ISSUERS: &str = r#"
        [auth]
        allow_http_issuer = true

        [[auth.issuers]]
        profile = "cognito"
        region = "eu-west-1"
        user_pool_id = "eu-west-1_AbC"
        client_ids = ["app"]

        [[auth.issuers]]
        profile = "entra"
        tenant_id = "7c1e2f4a-0b3d-4e5f-8a9b-1c2d3e4f5a6b"
        audiences = ["api://portcullis"]
        admin_roles = ["Portcullis.Admin"]

        [[auth.issuers]]
        profile = "keycloak"
        issuer = "https://sso.example.com/realms/main"
        issuer_aliases = ["http://127.0.0.1:8080/realms/main"]
        audiences = ["portcullis"]
        roles_claim = "resource_access.portcullis.roles"

        [[auth.issuers]]
        profile = "dev"
    "#;

    /// The error `resolve` gives for FOUR_ISSUERS with `from` replaced by `to`.
    fn list_error(jail: &mut Jail, from: &str, to: &str) -> ConfigError {
        assert!(FOUR_ISSUERS.contains(from), "{from}");
        jail.create_file("p.toml", &FOUR_ISSUERS.replace(from, to))
            .expect("file");
        match load(Profile::Standard, Some(std::path::Path::new("p.toml"))) {
            Ok(c) => c.auth.resolve().expect_err("refused"),
            Err(e) => e,
        }
    }

    #[test]
    fn issuers_resolve_to_one_profile_each() {
        Jail::expect_with(|jail| {
            jail.create_file("p.toml", FOUR_ISSUERS)?;
            let c = load(Profile::Standard, Some(std::path::Path::new("p.toml"))).expect("loads");
            let s = c.validate_for_serve().expect("valid");
            let [
                IssuerSettings::Profile(cognito),
                IssuerSettings::Profile(entra),
                IssuerSettings::Profile(keycloak),
                IssuerSettings::Dev { .. },
            ] = s.issuers.as_slice()
            else {
                panic!("four issuers expected: {:?}", s.issuers);
            };
            assert_eq!(cognito.kind, Kind::Cognito);
            assert_eq!(entra.tenants, ["7c1e2f4a-0b3d-4e5f-8a9b-1c2d3e4f5a6b"]);
            assert_eq!(entra.admin_roles, Some(vec!["Portcullis.Admin".to_owned()]));
            assert_eq!(
                keycloak.issuer_aliases,
                ["http://127.0.0.1:8080/realms/main"]
            );
            assert_eq!(
                keycloak.roles_claim.as_deref(),
                Some("resource_access.portcullis.roles")
            );
            // The flag narrows the clients of the issuers that check `client_id`.
            assert_eq!(
                s.accepted_clients(),
                ["app", portcullis_dev_issuer::DEFAULT_CLIENT_ID]
            );
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_in_an_entry_is_named_with_its_index() {
        Jail::expect_with(|jail| {
            let e = list_error(jail, "roles_claim =", "role_claim =");
            assert!(e.setting.starts_with("auth.issuers[2].role_claim"), "{e}");
            assert_eq!(e.reason, "unknown setting");
            Ok(())
        });
    }

    #[test]
    fn a_missing_required_key_is_named_with_its_index() {
        Jail::expect_with(|jail| {
            let e = list_error(
                jail,
                "tenant_id = \"7c1e2f4a-0b3d-4e5f-8a9b-1c2d3e4f5a6b\"",
                "",
            );
            assert_eq!(e.setting, "auth.issuers[1].tenants", "{e}");
            let e = list_error(jail, "issuer = \"https://sso.example.com/realms/main\"", "");
            assert_eq!(e.setting, "auth.issuers[2].issuer", "{e}");
            let e = list_error(jail, "profile = \"dev\"", "");
            assert_eq!(e.setting, "auth.issuers[3].profile", "{e}");
            let e = list_error(jail, "user_pool_id = \"eu-west-1_AbC\"", "");
            assert_eq!(e.setting, "auth.issuers[0].user_pool_id", "{e}");
            Ok(())
        });
    }

    #[test]
    fn a_violated_profile_rule_is_named_with_its_index() {
        Jail::expect_with(|jail| {
            // Not a tenant id: `common` would accept every tenant.
            let e = list_error(
                jail,
                "tenant_id = \"7c1e2f4a-0b3d-4e5f-8a9b-1c2d3e4f5a6b\"",
                "tenant_id = \"common\"",
            );
            assert_eq!(e.setting, "auth.issuers[1].tenant_id", "{e}");
            // Okta's org authorization server: its access tokens cannot be verified here.
            let e = list_error(
                jail,
                "profile = \"keycloak\"\n        issuer = \"https://sso.example.com/realms/main\"",
                "profile = \"okta\"\n        issuer = \"https://example.okta.com\"",
            );
            assert_eq!(e.setting, "auth.issuers[2].issuer", "{e}");
            assert!(e.reason.contains("org authorization server"), "{e}");
            // Plain http needs the opt-in (aliases are never fetched from, so they may be).
            let loopback = FOUR_ISSUERS.replace(
                "https://sso.example.com/realms/main",
                "http://127.0.0.1:9000/realms/main",
            );
            jail.create_file("p.toml", &loopback)?;
            let c = load(Profile::Standard, Some(std::path::Path::new("p.toml"))).expect("loads");
            c.auth
                .resolve()
                .expect("loopback http with allow_http_issuer");
            jail.create_file(
                "p.toml",
                &loopback.replace("allow_http_issuer = true", "allow_http_issuer = false"),
            )?;
            let c = load(Profile::Standard, Some(std::path::Path::new("p.toml"))).expect("loads");
            let e = c.auth.resolve().expect_err("http without the opt-in");
            assert_eq!(e.setting, "auth.issuers[2].issuer", "{e}");
            // Keycloak's `account` audience is in every token of the realm.
            let e = list_error(
                jail,
                "audiences = [\"portcullis\"]",
                "audiences = [\"account\"]",
            );
            assert_eq!(e.setting, "auth.issuers[2].audiences", "{e}");
            // A key of another profile would be silently ignored.
            let e = list_error(
                jail,
                "audiences = [\"portcullis\"]",
                "hosted_domains = [\"x\"]",
            );
            assert_eq!(e.setting, "auth.issuers[2].hosted_domains", "{e}");
            Ok(())
        });
    }

    #[test]
    fn a_dev_entry_takes_its_issuer_as_a_name_and_only_its_own_keys() {
        Jail::expect_with(|jail| {
            let dev = "profile = \"dev\"\n        issuer = \"http://dev.internal:8080/dev-issuer\"\n        admin_roles = [\"ops\"]";
            jail.create_file(
                "p.toml",
                &FOUR_ISSUERS
                    .replace("profile = \"dev\"", dev)
                    .replace("allow_http_issuer = true", "allow_http_issuer = false")
                    .replace(
                        "http://127.0.0.1:8080/realms/main",
                        "https://kc.internal/realms/main",
                    ),
            )?;
            let c = load(Profile::Standard, Some(std::path::Path::new("p.toml"))).expect("loads");
            let s = c.auth.resolve().expect("the dev issuer is never fetched");
            assert_eq!(
                s.dev(),
                Some(&IssuerSettings::Dev {
                    issuer: Some("http://dev.internal:8080/dev-issuer".into()),
                    clients: vec![portcullis_dev_issuer::DEFAULT_CLIENT_ID.to_owned()],
                    admin_roles: vec!["ops".into()],
                    dpop: DpopMode::Off,
                })
            );
            let e = list_error(
                jail,
                "profile = \"dev\"",
                "profile = \"dev\"\n        audiences = [\"api\"]",
            );
            assert_eq!(e.setting, "auth.issuers[3].audiences", "{e}");
            Ok(())
        });
    }

    #[test]
    fn the_one_issuer_settings_do_not_mix_with_the_list() {
        Jail::expect_with(|jail| {
            let e = list_error(jail, "[auth]\n", "[auth]\nprovider = \"cognito\"\n");
            assert_eq!(e.setting, "PORTCULLIS_AUTH__PROVIDER", "{e}");
            let e = list_error(
                jail,
                "[[auth.issuers]]\n        profile = \"dev\"",
                "[[auth.issuers]]\n        profile = \"dev\"\n\n        [[auth.issuers]]\n        profile = \"dev\"",
            );
            assert_eq!(e.setting, "auth.issuers", "{e}");
            Ok(())
        });
    }

    #[test]
    fn serve_refuses_a_plain_http_issuer() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__PROVIDER", "oidc");
            jail.set_env("PORTCULLIS_AUTH__AUDIENCES", "api");
            jail.set_env("PORTCULLIS_AUTH__ISSUER", "http://idp.example");
            let c = load(Profile::Standard, None).expect("loads");
            let e = c
                .validate_for_serve()
                .expect_err("http issuer refused")
                .to_string();
            assert!(e.contains("PORTCULLIS_AUTH__ISSUER"), "{e}");
            // Loopback http only with the explicit opt-in.
            jail.set_env("PORTCULLIS_AUTH__ISSUER", "http://127.0.0.1:9000");
            let c = load(Profile::Standard, None).expect("loads");
            assert!(c.validate_for_serve().is_err());
            jail.set_env("PORTCULLIS_AUTH__ALLOW_HTTP_ISSUER", "true");
            let c = load(Profile::Standard, None).expect("loads");
            assert!(c.validate_for_serve().is_ok());
            Ok(())
        });
    }

    #[test]
    fn dpop_modes_per_issuer_and_short_form() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__PROVIDER", "dev");
            jail.set_env("PORTCULLIS_AUTH__DPOP", "required");
            jail.set_env("PORTCULLIS_AUTH__DPOP_ALGORITHMS", "ES256,EdDSA");
            jail.set_env("PORTCULLIS_RESOURCE", "https://api.example.com/");
            let c = load(Profile::Standard, None).expect("loads");
            c.validate().expect("valid");
            assert_eq!(c.resource.as_deref(), Some("https://api.example.com/"));
            assert_eq!(c.auth.dpop_algorithms, ["ES256", "EdDSA"]);
            let s = c.auth.resolve().expect("resolves");
            assert_eq!(s.dpop_modes(), [DpopMode::Required]);
            jail.set_env("PORTCULLIS_AUTH__DPOP", "sometimes");
            assert!(load(Profile::Standard, None).is_err());
            jail.set_env("PORTCULLIS_AUTH__DPOP", "allowed");
            jail.set_env("PORTCULLIS_AUTH__DPOP_ALGORITHMS", "HS256");
            let c = load(Profile::Standard, None);
            assert!(c.is_err_and(|e| e.to_string().to_lowercase().contains("dpop_algorithms")));
            jail.set_env("PORTCULLIS_AUTH__DPOP_ALGORITHMS", "ES256");
            jail.set_env("PORTCULLIS_RESOURCE", "https://api.example.com/?x=1");
            let c = load(Profile::Standard, None);
            assert!(c.is_err_and(|e| e.to_string().to_lowercase().contains("resource")));
            Ok(())
        });
        Jail::expect_with(|jail| {
            let file = FOUR_ISSUERS.replace(
                "profile = \"entra\"",
                "profile = \"entra\"\n        dpop = \"allowed\"",
            );
            jail.create_file("p.toml", &file)?;
            let c = load(Profile::Standard, Some(std::path::Path::new("p.toml"))).expect("loads");
            let s = c.auth.resolve().expect("resolves");
            assert_eq!(
                s.dpop_modes(),
                [
                    DpopMode::Off,
                    DpopMode::Allowed,
                    DpopMode::Off,
                    DpopMode::Off
                ]
            );
            // The short form's setting next to a list would be silently unused.
            jail.set_env("PORTCULLIS_AUTH__DPOP", "required");
            let c = load(Profile::Standard, Some(std::path::Path::new("p.toml"))).expect("loads");
            let e = c.auth.resolve().expect_err("mixed forms");
            assert_eq!(e.setting, "PORTCULLIS_AUTH__DPOP", "{e}");
            Ok(())
        });
    }

    #[test]
    fn numeric_client_id_from_env_stays_text() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__CLIENT_IDS", "12345");
            let c = load(Profile::Standard, None).expect("valid");
            assert_eq!(c.auth.client_ids, ["12345"]);
            Ok(())
        });
    }

    #[test]
    fn serve_requires_a_provider_and_its_settings() {
        let mut c = Config::default();
        let e = c.validate_for_serve().expect_err("no provider");
        assert!(e.to_string().contains("PORTCULLIS_AUTH__PROVIDER"), "{e}");
        c.auth.provider = Some(AuthProvider::Cognito);
        let e = c.validate_for_serve().expect_err("no pool");
        assert!(e.to_string().contains("PORTCULLIS_AUTH__REGION"), "{e}");
        c.auth.region = Some("eu-west-1".into());
        c.auth.user_pool_id = Some("eu-west-1_abc".into());
        c.auth.client_ids = vec!["client".into()];
        c.validate_for_serve().expect("complete cognito config");
    }

    #[test]
    fn an_empty_admin_group_is_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__ADMIN_GROUP", " ");
            let e = load(Profile::Standard, None).expect_err("empty group");
            assert_eq!(e.setting, "PORTCULLIS_AUTH__ADMIN_GROUP");
            Ok(())
        });
    }
}
