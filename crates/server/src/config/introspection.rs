//! `introspection = { ... }` in an `[[auth.issuers]]` entry: that issuer's opaque tokens are
//! checked at its RFC 7662 endpoint. The client secret comes from the table or from the file
//! `client_secret_file` names, and is never shown (`***` in `Debug` and `check-config`).

use super::ConfigError;
use portcullis_auth::introspection::{ClientAuth, ClientSecret, IntrospectionConfig};
use portcullis_auth::provider::check_key_url;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// The client secret as configured; shown nowhere.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for SecretValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

/// How the client authenticates at the endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntrospectionAuth {
    /// `client_secret_basic`.
    #[default]
    Basic,
    /// `client_secret_post`.
    Post,
}

/// The table as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrospectionToml {
    pub endpoint: String,
    pub client_id: String,
    pub client_secret: Option<SecretValue>,
    /// A file holding the secret (a mounted container secret), instead of `client_secret`.
    pub client_secret_file: Option<String>,
    pub auth: IntrospectionAuth,
    /// Longest reuse of an `active` answer; never past the token's `exp`.
    pub cache_ttl_secs: u64,
    /// Reuse of an `active: false` answer.
    pub inactive_ttl_secs: u64,
    /// Each call's limit; past it the request fails with 503.
    pub timeout_ms: u64,
    /// `opaque`: only tokens that are not JWT-shaped are introspected; `all`: this issuer's
    /// JWTs too, instead of their signature (issuers whose JWTs cannot be checked locally).
    pub tokens: IntrospectedTokens,
}

/// Which of the issuer's tokens are introspected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntrospectedTokens {
    /// Tokens that are not JWT-shaped.
    #[default]
    Opaque,
    /// Those, and JWTs whose `iss` names this issuer.
    All,
}

impl Default for IntrospectionToml {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_file: None,
            auth: IntrospectionAuth::Basic,
            cache_ttl_secs: 300,
            inactive_ttl_secs: 10,
            timeout_ms: 2000,
            tokens: IntrospectedTokens::Opaque,
        }
    }
}

impl IntrospectionToml {
    /// The library's settings, with the setting at fault named `{prefix}.{key}`.
    pub fn resolve(
        &self,
        prefix: &str,
        allow_http: bool,
    ) -> Result<IntrospectionConfig, ConfigError> {
        let err = |key: &str, why: &str| ConfigError::new(format!("{prefix}.{key}"), why);
        check_key_url(&self.endpoint, allow_http).map_err(|_| {
            err(
                "endpoint",
                "must be an https:// URL without user info (plain http only on loopback with allow_http_issuer)",
            )
        })?;
        if self.client_id.trim().is_empty() {
            return Err(err("client_id", "required"));
        }
        let secret = match (&self.client_secret, &self.client_secret_file) {
            (Some(s), None) => s.0.clone(),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    err(
                        "client_secret_file",
                        &format!("cannot read {path}: {}", e.kind()),
                    )
                })?;
                text.trim_end_matches(['\n', '\r']).to_owned()
            }
            (Some(_), Some(_)) => {
                return Err(err(
                    "client_secret",
                    "set client_secret or client_secret_file, not both",
                ));
            }
            (None, None) => {
                return Err(err("client_secret", "required (or client_secret_file)"));
            }
        };
        if secret.is_empty() {
            return Err(err("client_secret", "must not be empty"));
        }
        for (key, value) in [
            ("cache_ttl_secs", self.cache_ttl_secs),
            ("inactive_ttl_secs", self.inactive_ttl_secs),
            ("timeout_ms", self.timeout_ms),
        ] {
            if value == 0 {
                return Err(err(key, "must be above zero"));
            }
        }
        let mut config =
            IntrospectionConfig::new(&self.endpoint, &self.client_id, ClientSecret::new(secret));
        config.auth = match self.auth {
            IntrospectionAuth::Basic => ClientAuth::Basic,
            IntrospectionAuth::Post => ClientAuth::Post,
        };
        config.cache_ttl = Duration::from_secs(self.cache_ttl_secs);
        config.inactive_ttl = Duration::from_secs(self.inactive_ttl_secs);
        config.timeout = Duration::from_millis(self.timeout_ms);
        config.jwts = self.tokens == IntrospectedTokens::All;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> IntrospectionToml {
        IntrospectionToml {
            endpoint: "https://idp.example/oauth2/v1/introspect".into(),
            client_id: "api".into(),
            client_secret: Some(SecretValue("hunter2-hunter2".into())),
            ..IntrospectionToml::default()
        }
    }

    #[test]
    fn the_secret_is_never_shown() {
        let t = table();
        let shown = format!("{t:?} {}", toml::to_string(&t).expect("toml"));
        assert!(!shown.contains("hunter2"), "{shown}");
        let resolved = t
            .resolve("auth.issuers[0].introspection", false)
            .expect("valid");
        assert!(!format!("{resolved:?}").contains("hunter2"));
        assert_eq!(resolved.client_secret.expose(), "hunter2-hunter2");
    }

    #[test]
    fn settings_are_checked_and_named() {
        let p = "auth.issuers[0].introspection";
        type Change = fn(&mut IntrospectionToml);
        let cases: [(Change, &str); 5] = [
            (|t| t.endpoint = "http://idp.example/i".into(), "endpoint"),
            (|t| t.client_id = String::new(), "client_id"),
            (|t| t.client_secret = None, "client_secret"),
            (
                |t| t.client_secret_file = Some("/nonexistent".into()),
                "client_secret",
            ),
            (|t| t.timeout_ms = 0, "timeout_ms"),
        ];
        for (change, key) in cases {
            let mut t = table();
            change(&mut t);
            let e = t.resolve(p, false).expect_err(key);
            assert_eq!(e.setting, format!("{p}.{key}"), "{e}");
            assert!(!e.to_string().contains("hunter2"));
        }
    }

    #[test]
    fn the_secret_may_come_from_a_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-a-file\n").expect("write");
        let mut t = table();
        t.client_secret = None;
        t.client_secret_file = Some(path.display().to_string());
        let c = t.resolve("x", false).expect("valid");
        assert_eq!(c.client_secret.expose(), "from-a-file");
    }
}
