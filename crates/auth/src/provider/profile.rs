//! A provider as a user configures it: which profile, and the few settings that differ from
//! the profile's defaults. [`VerifierBuilder`](crate::builder::VerifierBuilder) turns each
//! into providers with their key sets; everything a profile requires is checked there, with
//! the setting named, before anything is fetched.

use crate::keys::Alg;
use std::fmt;

/// The profiles: each knows its provider's issuer forms, audience rule, roles claim and the
/// tokens it must refuse on sight (docs/providers.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// AWS Cognito user pools.
    Cognito,
    /// Auth0.
    Auth0,
    /// Microsoft Entra ID.
    Entra,
    /// Keycloak.
    Keycloak,
    /// Okta custom authorization servers.
    Okta,
    /// Google ID tokens.
    Google,
    /// Any OpenID Connect issuer.
    Oidc,
}

impl Kind {
    /// The profile's name in configuration (`cognito`, `entra`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cognito => "cognito",
            Kind::Auth0 => "auth0",
            Kind::Entra => "entra",
            Kind::Keycloak => "keycloak",
            Kind::Okta => "okta",
            Kind::Google => "google",
            Kind::Oidc => "oidc",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One configured provider. Start from the constructor of its profile and change what
/// differs: `Profile::keycloak(issuer, ["my-api"]).aliases(["http://keycloak:8080/realms/main"])`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile.
    pub kind: Kind,
    /// Replaces the profile's own issuer form (so tests can use a loopback issuer). Required
    /// for Keycloak, Okta and generic OIDC, which have no fixed form.
    pub issuer: Option<String>,
    /// Further `iss` spellings of the same issuer; keys are fetched from `issuer` only.
    pub issuer_aliases: Vec<String>,
    /// Accepted `aud` values (not used by Cognito, whose access tokens have none, nor by
    /// Google, whose `aud` is the client id).
    pub audiences: Vec<String>,
    /// Cognito `client_id`, Okta `cid` (any client when empty), Google `aud`.
    pub client_ids: Vec<String>,
    /// Cognito's region and user pool id, which name its issuers.
    pub region: Option<String>,
    /// Cognito's user pool id (`{region}_...`).
    pub user_pool_id: Option<String>,
    /// Auth0's tenant or custom domain (`example.eu.auth0.com`).
    pub domain: Option<String>,
    /// Entra's allowed tenant ids; one provider each.
    pub tenants: Vec<String>,
    /// Google Workspace domains allowed in `hd`; any account when empty.
    pub hosted_domains: Vec<String>,
    /// Where roles are read from (`realm_access.roles`, `https://example.com/roles`); the
    /// profile's default when `None`.
    pub roles_claim: Option<String>,
    /// Roles that make a platform admin; `["portcullis-admin"]` when `None`.
    pub admin_roles: Option<Vec<String>>,
    /// Accepted signing algorithms; RS256 when `None`.
    pub algorithms: Option<Vec<Alg>>,
    /// DPoP for this issuer's tokens (RFC 9449); off by default.
    pub dpop: crate::dpop::DpopMode,
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

impl Profile {
    fn of(kind: Kind) -> Self {
        Self {
            kind,
            issuer: None,
            issuer_aliases: Vec::new(),
            audiences: Vec::new(),
            client_ids: Vec::new(),
            region: None,
            user_pool_id: None,
            domain: None,
            tenants: Vec::new(),
            hosted_domains: Vec::new(),
            roles_claim: None,
            admin_roles: None,
            algorithms: None,
            dpop: crate::dpop::DpopMode::Off,
        }
    }

    /// A user pool: both of its issuer forms, `token_use = access`, `client_id` in the list.
    pub fn cognito<S: Into<String>>(
        region: impl Into<String>,
        user_pool_id: impl Into<String>,
        client_ids: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            region: Some(region.into()),
            user_pool_id: Some(user_pool_id.into()),
            client_ids: strings(client_ids),
            ..Self::of(Kind::Cognito)
        }
    }

    /// A tenant or custom domain, and the API identifiers accepted in `aud`.
    pub fn auth0<S: Into<String>>(
        domain: impl Into<String>,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            domain: Some(domain.into()),
            audiences: strings(audiences),
            ..Self::of(Kind::Auth0)
        }
    }

    /// Allowed tenant ids, and the API's client id and/or App ID URI.
    pub fn entra<S: Into<String>, T: Into<String>>(
        tenants: impl IntoIterator<Item = T>,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            tenants: strings(tenants),
            audiences: strings(audiences),
            ..Self::of(Kind::Entra)
        }
    }

    /// A realm's issuer (`https://sso.example.com/realms/main`) and this API's audience.
    pub fn keycloak<S: Into<String>>(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            issuer: Some(issuer.into()),
            audiences: strings(audiences),
            ..Self::of(Kind::Keycloak)
        }
    }

    /// A custom authorization server's issuer (`https://example.okta.com/oauth2/default`) and
    /// its audience (`api://default` for the default server).
    pub fn okta<S: Into<String>>(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            issuer: Some(issuer.into()),
            audiences: strings(audiences),
            ..Self::of(Kind::Okta)
        }
    }

    /// Google ID tokens for these OAuth client ids. Google has no JWT access tokens; choosing
    /// this profile is the opt-in to accepting ID tokens from it.
    pub fn google<S: Into<String>>(client_ids: impl IntoIterator<Item = S>) -> Self {
        Self {
            client_ids: strings(client_ids),
            ..Self::of(Kind::Google)
        }
    }

    /// Any OpenID provider, found through its discovery document.
    pub fn oidc<S: Into<String>>(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            issuer: Some(issuer.into()),
            audiences: strings(audiences),
            ..Self::of(Kind::Oidc)
        }
    }

    /// Sets the issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the issuer's aliases.
    pub fn aliases<S: Into<String>>(mut self, aliases: impl IntoIterator<Item = S>) -> Self {
        self.issuer_aliases = strings(aliases);
        self
    }

    /// Sets the accepted audiences.
    pub fn audiences<S: Into<String>>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        self.audiences = strings(audiences);
        self
    }

    /// Sets the accepted client ids.
    pub fn client_ids<S: Into<String>>(mut self, client_ids: impl IntoIterator<Item = S>) -> Self {
        self.client_ids = strings(client_ids);
        self
    }

    /// Sets the allowed Google Workspace domains.
    pub fn hosted_domains<S: Into<String>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        self.hosted_domains = strings(domains);
        self
    }

    /// Sets where roles are read.
    pub fn roles_claim(mut self, path: impl Into<String>) -> Self {
        self.roles_claim = Some(path.into());
        self
    }

    /// Sets the roles that make a platform admin.
    pub fn admin_roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.admin_roles = Some(strings(roles));
        self
    }

    /// Sets the accepted signing algorithms.
    pub fn algorithms(mut self, algorithms: Vec<Alg>) -> Self {
        self.algorithms = Some(algorithms);
        self
    }
}
