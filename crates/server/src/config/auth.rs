//! `[auth]`: how tokens are verified. [`AuthConfig`] is what the operator wrote;
//! [`AuthConfig::resolve`] checks it once and turns it into [`AuthSettings`], the one provider
//! with everything it needs, which the verifier and the flags are built from.

use super::ConfigError;
use super::list;
use portcullis_auth::provider::{Cognito, check_issuer_url};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthProvider {
    Cognito,
    Oidc,
    Dev,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// No default: `serve` refuses to guess how tokens are verified.
    pub provider: Option<AuthProvider>,
    pub region: Option<String>,
    pub user_pool_id: Option<String>,
    pub issuer: Option<String>,
    #[serde(deserialize_with = "list::comma_list")]
    pub client_ids: Vec<String>,
    #[serde(deserialize_with = "list::comma_list")]
    pub audiences: Vec<String>,
    pub allow_http_issuer: bool,
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
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            provider: None,
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
        }
    }
}

/// The verified provider settings. Issuers are checked URLs (https, or loopback http with
/// `auth.allow_http_issuer`), except the dev issuer's, which is only a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSettings {
    Cognito {
        /// The explicit `auth.issuer` without a trailing `/`, or the pool's issuer.
        issuer: String,
        /// Never empty.
        clients: Vec<String>,
    },
    Oidc {
        issuer: String,
        /// Never empty.
        audiences: Vec<String>,
    },
    Dev {
        /// `None`: named after the bound API address, known only once it listens.
        issuer: Option<String>,
        /// `auth.client_ids`, or the dev issuer's own client when none is configured.
        clients: Vec<String>,
    },
}

impl AuthSettings {
    /// The app client ids the verifier accepts; the `auth.client_ids` flag may only narrow
    /// them. OIDC tokens are matched by audience, so there are none.
    pub fn accepted_clients(&self) -> &[String] {
        match self {
            Self::Cognito { clients, .. } | Self::Dev { clients, .. } => clients,
            Self::Oidc { .. } => &[],
        }
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
        if !(1..=3650).contains(&self.session_revocation_days) {
            return Err(ConfigError::setting(
                "auth.session_revocation_days",
                "must be between 1 and 3650",
            ));
        }
        Ok(())
    }

    /// The provider's settings, or the first one it cannot work without.
    pub fn resolve(&self) -> Result<AuthSettings, ConfigError> {
        match self.provider {
            None => Err(ConfigError::setting(
                "auth.provider",
                "`serve` needs an auth provider: set PORTCULLIS_AUTH__PROVIDER to cognito or oidc \
                 (or run `portcullis dev` for local development)",
            )),
            Some(AuthProvider::Cognito) => {
                let issuer = match (&self.issuer, &self.region, &self.user_pool_id) {
                    (Some(issuer), _, _) => {
                        self.check_issuer("auth.issuer", issuer)?;
                        issuer.trim_end_matches('/').to_owned()
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
                        let issuer = Cognito::pool_issuer(region, pool);
                        // Only a region with URL syntax in it can spoil the derived issuer.
                        self.check_issuer("auth.region", &issuer)?;
                        issuer
                    }
                };
                if self.client_ids.is_empty() {
                    return Err(ConfigError::setting(
                        "auth.client_ids",
                        "cognito needs at least one accepted app client id",
                    ));
                }
                Ok(AuthSettings::Cognito {
                    issuer,
                    clients: self.client_ids.clone(),
                })
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
                Ok(AuthSettings::Oidc {
                    issuer: issuer.clone(),
                    audiences: self.audiences.clone(),
                })
            }
            Some(AuthProvider::Dev) => {
                let clients = if self.client_ids.is_empty() {
                    vec![portcullis_dev_issuer::DEFAULT_CLIENT_ID.to_owned()]
                } else {
                    self.client_ids.clone()
                };
                Ok(AuthSettings::Dev {
                    issuer: self.issuer.clone(),
                    clients,
                })
            }
        }
    }

    fn check_issuer(&self, setting: &str, url: &str) -> Result<(), ConfigError> {
        check_issuer_url(url, self.allow_http_issuer)
            .map_err(|why| ConfigError::setting(setting, why))
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

    #[test]
    fn cognito_resolves_to_the_pool_issuer_or_the_trimmed_explicit_one() {
        let mut a = provider(AuthProvider::Cognito);
        a.region = Some("eu-west-1".into());
        a.user_pool_id = Some("eu-west-1_abc".into());
        a.client_ids = vec!["c1".into()];
        assert_eq!(
            a.resolve(),
            Ok(AuthSettings::Cognito {
                issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc".into(),
                clients: vec!["c1".into()],
            })
        );
        a.issuer = Some("https://idp.example/pool/".into());
        let s = a.resolve().expect("explicit issuer");
        assert!(
            matches!(&s, AuthSettings::Cognito { issuer, .. } if issuer == "https://idp.example/pool")
        );
        assert_eq!(s.accepted_clients(), ["c1"]);
    }

    #[test]
    fn cognito_refuses_a_region_that_spoils_the_issuer() {
        let mut a = provider(AuthProvider::Cognito);
        a.region = Some("x@evil.example#".into());
        a.user_pool_id = Some("pool".into());
        a.client_ids = vec!["c1".into()];
        let e = a.resolve().expect_err("userinfo in the derived issuer");
        assert_eq!(e.setting, "PORTCULLIS_AUTH__REGION", "{e}");
    }

    #[test]
    fn dev_fills_in_its_default_client_once() {
        let a = provider(AuthProvider::Dev);
        let s = a.resolve().expect("dev needs nothing");
        assert_eq!(
            s,
            AuthSettings::Dev {
                issuer: None,
                clients: vec![portcullis_dev_issuer::DEFAULT_CLIENT_ID.to_owned()],
            }
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
