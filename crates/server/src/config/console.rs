//! `[console]`: how the operator console signs in (an OAuth client of the configured issuer).

use super::ConfigError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The console's app client at the issuer. Unset under the dev issuer: its own public
    /// client `portcullis-dev`. Unset otherwise: the console is off.
    pub client_id: Option<String>,
    /// For a confidential client; sent with HTTP Basic at the token endpoint.
    pub client_secret: Option<ClientSecret>,
    /// Where the issuer sends the browser back: `https://host/console/callback`. Unset: the
    /// API's own origin (`resource`, else the listen address) followed by `/console/callback`.
    pub redirect_uri: Option<String>,
    /// A Cognito hosted-UI domain (`auth.example.com` or `x.auth.region.amazoncognito.com`):
    /// its `/oauth2/authorize`, `/oauth2/token` and `/logout` are used instead of discovery.
    pub cognito_domain: Option<String>,
}

impl ConsoleConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(uri) = &self.redirect_uri {
            let ok = url::Url::parse(uri).is_ok_and(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host().is_some()
                    && u.path() == "/console/callback"
                    && u.query().is_none()
                    && u.fragment().is_none()
            });
            if !ok {
                return Err(ConfigError::setting(
                    "console.redirect_uri",
                    "must be an absolute http(s) URL whose path is /console/callback",
                ));
            }
        }
        if let Some(domain) = &self.cognito_domain {
            let ok = !domain.is_empty()
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !ok {
                return Err(ConfigError::setting(
                    "console.cognito_domain",
                    "must be a host name only (no scheme, path or port), e.g. auth.example.com",
                ));
            }
        }
        if self.client_id.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::setting(
                "console.client_id",
                "must not be empty",
            ));
        }
        Ok(())
    }
}

/// The client secret. Shown nowhere: `Debug` and `check-config` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for ClientSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for ClientSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(String::deserialize(d)?))
    }
}
