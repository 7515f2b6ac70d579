//! `[dev]`: the local identity provider of `portcullis dev`: its OAuth clients
//! (`[[dev.clients]]`), its personas (`[[dev.personas]]`) and its token lifetimes. Read by every
//! command but used only by `dev`; see docs/dev-issuer.md.

use super::ConfigError;
use portcullis_store::Role;
use serde::{Deserialize, Serialize};

/// The public client that exists unless a `[[dev.clients]]` entry of the same id replaces it.
pub const DEFAULT_CLIENT_ID: &str = portcullis_dev_issuer::DEFAULT_CLIENT_ID;

/// The TOTP secret of the default `dev-mfa` persona (base32). Public on purpose: it is printed
/// by `portcullis dev` so that anyone can add it to an authenticator app.
pub const DEFAULT_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevConfig {
    /// OAuth clients, besides the default public client `portcullis-dev`.
    pub clients: Vec<DevClient>,
    /// Personas offered on the sign-in page, besides (or replacing, by `sub`) the defaults.
    pub personas: Vec<Persona>,
    /// How long an authorization code can be redeemed. `0` makes every code expire at once,
    /// for testing how a client handles an expired code.
    pub code_ttl_secs: u64,
    /// Lifetime of the access and ID tokens the token endpoint issues.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh session, counted from the sign-in (rotation does not extend it).
    pub refresh_token_ttl_secs: u64,
}

impl Default for DevConfig {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            personas: Vec::new(),
            code_ttl_secs: 60,
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 86_400,
        }
    }
}

/// `[[dev.clients]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DevClient {
    pub client_id: String,
    /// Exact matches; a loopback URI (`http://127.0.0.1/...`, `http://localhost/...`) also
    /// matches on any port (RFC 8252).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where `/dev-issuer/logout` may send the browser back to; the redirect URIs when empty.
    #[serde(default)]
    pub logout_uris: Vec<String>,
    /// Makes a confidential client (`client_secret_basic` or `client_secret_post`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Redacted>,
    /// `authorization_code` and `refresh_token` unless narrowed; without `refresh_token` no
    /// refresh token is issued.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into(), "refresh_token".into()]
}

/// `[[dev.personas]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub sub: String,
    /// The `sub` when absent.
    #[serde(default)]
    pub username: Option<String>,
    /// `{username}@example.com` when absent.
    #[serde(default)]
    pub email: Option<String>,
    /// `cognito:groups`.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub memberships: Vec<PersonaMembership>,
    /// `"totp"`: the persona has an authenticator; the sign-in page asks for its code when
    /// the client asks for MFA.
    #[serde(default)]
    pub mfa: Option<String>,
    /// Base32 (RFC 4648) TOTP secret, required with `mfa = "totp"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<Redacted>,
}

/// `{org = "Acme", role = "admin"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PersonaMembership {
    pub org: String,
    pub role: String,
}

impl Persona {
    pub fn username(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.sub)
    }

    pub fn email(&self) -> String {
        self.email
            .clone()
            .unwrap_or_else(|| format!("{}@example.com", self.username()))
    }

    pub fn has_totp(&self) -> bool {
        self.mfa.as_deref() == Some("totp")
    }
}

impl DevConfig {
    /// The default personas (`dev-admin`, `dev-member`, `dev-mfa`, all in the org `Acme`)
    /// with configured ones replacing those of the same `sub`, then the others configured.
    pub fn effective_personas(&self, admin_group: &str) -> Vec<Persona> {
        let acme = |role: &str| {
            vec![PersonaMembership {
                org: "Acme".into(),
                role: role.into(),
            }]
        };
        let defaults = [
            Persona {
                sub: "dev-admin".into(),
                username: None,
                email: None,
                groups: vec![admin_group.to_owned()],
                memberships: acme("owner"),
                mfa: None,
                totp_secret: None,
            },
            Persona {
                sub: "dev-member".into(),
                username: None,
                email: None,
                groups: Vec::new(),
                memberships: acme("member"),
                mfa: None,
                totp_secret: None,
            },
            Persona {
                sub: "dev-mfa".into(),
                username: None,
                email: None,
                groups: Vec::new(),
                memberships: acme("admin"),
                mfa: Some("totp".into()),
                totp_secret: Some(Redacted::new(DEFAULT_TOTP_SECRET)),
            },
        ];
        let mut out: Vec<Persona> = defaults
            .into_iter()
            .filter(|d| !self.personas.iter().any(|p| p.sub == d.sub))
            .collect();
        out.extend(self.personas.iter().cloned());
        out
    }

    /// The default client unless replaced, then the configured ones.
    pub fn effective_clients(&self) -> Vec<DevClient> {
        let mut out = Vec::new();
        if !self
            .clients
            .iter()
            .any(|c| c.client_id == DEFAULT_CLIENT_ID)
        {
            out.push(DevClient {
                client_id: DEFAULT_CLIENT_ID.into(),
                redirect_uris: Vec::new(),
                logout_uris: Vec::new(),
                client_secret: None,
                grant_types: default_grant_types(),
            });
        }
        out.extend(self.clients.iter().cloned());
        out
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, secs, max) in [
            ("dev.code_ttl_secs", self.code_ttl_secs, 600),
            (
                "dev.access_token_ttl_secs",
                self.access_token_ttl_secs,
                86_400,
            ),
            (
                "dev.refresh_token_ttl_secs",
                self.refresh_token_ttl_secs,
                3650 * 86_400,
            ),
        ] {
            if secs > max || (secs == 0 && name != "dev.code_ttl_secs") {
                return Err(ConfigError::setting(
                    name,
                    format!(
                        "must be between {} and {max}",
                        u64::from(name != "dev.code_ttl_secs")
                    ),
                ));
            }
        }
        let mut ids: Vec<&str> = Vec::new();
        for (i, c) in self.clients.iter().enumerate() {
            let at = |field: &str| format!("dev.clients[{i}].{field}");
            if !plain_name(&c.client_id) {
                return Err(ConfigError::new(
                    at("client_id"),
                    "must be 1 to 128 letters, digits, '-', '_' or '.'",
                ));
            }
            if ids.contains(&c.client_id.as_str()) {
                return Err(ConfigError::new(at("client_id"), "is listed twice"));
            }
            ids.push(&c.client_id);
            for (field, uris) in [
                ("redirect_uris", &c.redirect_uris),
                ("logout_uris", &c.logout_uris),
            ] {
                if let Some(bad) = uris.iter().position(|u| !acceptable_uri(u)) {
                    return Err(ConfigError::new(
                        format!("{}[{bad}]", at(field)),
                        "must be an absolute http(s) URI without a fragment",
                    ));
                }
            }
            if c.client_id != DEFAULT_CLIENT_ID && c.redirect_uris.is_empty() {
                return Err(ConfigError::new(
                    at("redirect_uris"),
                    "must list at least one URI",
                ));
            }
            if let Some(secret) = &c.client_secret
                && secret.expose().len() < 8
            {
                return Err(ConfigError::new(
                    at("client_secret"),
                    "must be at least 8 characters",
                ));
            }
            if c.grant_types.is_empty()
                || !c
                    .grant_types
                    .iter()
                    .all(|g| g == "authorization_code" || g == "refresh_token")
                || !c.grant_types.iter().any(|g| g == "authorization_code")
            {
                return Err(ConfigError::new(
                    at("grant_types"),
                    "must list authorization_code, optionally with refresh_token",
                ));
            }
        }
        self.validate_personas()
    }

    fn validate_personas(&self) -> Result<(), ConfigError> {
        let mut subs: Vec<&str> = Vec::new();
        for (i, p) in self.personas.iter().enumerate() {
            let at = |field: &str| format!("dev.personas[{i}].{field}");
            if p.sub.is_empty() || p.sub.len() > 255 || p.sub.chars().any(char::is_control) {
                return Err(ConfigError::new(
                    at("sub"),
                    "must be 1 to 255 characters without control characters",
                ));
            }
            if subs.contains(&p.sub.as_str()) {
                return Err(ConfigError::new(at("sub"), "is listed twice"));
            }
            subs.push(&p.sub);
            if let Some(u) = &p.username
                && portcullis_store::validate::username(u).is_err()
            {
                return Err(ConfigError::new(at("username"), "is not a valid username"));
            }
            if let Some(e) = &p.email
                && portcullis_store::validate::email(e).is_err()
            {
                return Err(ConfigError::new(
                    at("email"),
                    "is not a valid e-mail address",
                ));
            }
            for (j, m) in p.memberships.iter().enumerate() {
                if portcullis_store::validate::name(&m.org).is_err() {
                    return Err(ConfigError::new(
                        format!("dev.personas[{i}].memberships[{j}].org"),
                        "is not a valid org name",
                    ));
                }
                if m.role.parse::<Role>().is_err() {
                    return Err(ConfigError::new(
                        format!("dev.personas[{i}].memberships[{j}].role"),
                        "must be viewer, member, admin or owner",
                    ));
                }
            }
            match (p.mfa.as_deref(), &p.totp_secret) {
                (None, None) => {}
                (None, Some(_)) => {
                    return Err(ConfigError::new(at("totp_secret"), "needs mfa = \"totp\""));
                }
                (Some("totp"), Some(secret)) => {
                    if portcullis_dev_issuer::totp::decode_secret(secret.expose()).is_none() {
                        return Err(ConfigError::new(
                            at("totp_secret"),
                            "must be base32 (RFC 4648) of at least 10 bytes",
                        ));
                    }
                }
                (Some("totp"), None) => {
                    return Err(ConfigError::new(
                        at("totp_secret"),
                        "is required with mfa = \"totp\"",
                    ));
                }
                (Some(_), _) => {
                    return Err(ConfigError::new(at("mfa"), "must be \"totp\""));
                }
            }
        }
        // Every org is created by the seed with an owner, and an org never loses its last one.
        let personas = self.effective_personas("portcullis-admin");
        for p in &personas {
            for m in &p.memberships {
                let owned = personas.iter().any(|q| {
                    q.memberships
                        .iter()
                        .any(|n| n.org == m.org && n.role == "owner")
                });
                if !owned {
                    return Err(ConfigError::new(
                        "dev.personas",
                        format!(
                            "the org {:?} needs a persona with role \"owner\" (an org always has one)",
                            m.org
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A secret string of the dev configuration: `Debug` and `check-config` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Redacted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for Redacted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

fn plain_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn acceptable_uri(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => matches!(u.scheme(), "http" | "https") && u.fragment().is_none() && u.has_host(),
        Err(_) => false,
    }
}
