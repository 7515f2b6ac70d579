//! `[ws]`: how many WebSockets (and exports over them) one instance keeps open. See
//! docs/sessions.md, "Limits and close codes".

use super::ConfigError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsConfig {
    /// Open sockets of one user on this instance; past it, a new one is refused (429 before
    /// the upgrade when the token came in the header, close 4429 after its `auth` message).
    pub max_sockets_per_user: u32,
    /// Sockets on this instance that were upgraded without a token and have not sent their
    /// `auth` message yet; past it, a header-less upgrade is refused with 503.
    pub max_unauthenticated: u32,
    /// Exports running at once for one user on this instance, across their sockets; past it,
    /// an `export` gets error `too_many_exports`.
    pub max_exports_per_user: u32,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_sockets_per_user: 32,
            max_unauthenticated: 1000,
            max_exports_per_user: 2,
        }
    }
}

impl WsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("ws.max_sockets_per_user", self.max_sockets_per_user),
            ("ws.max_unauthenticated", self.max_unauthenticated),
            ("ws.max_exports_per_user", self.max_exports_per_user),
        ] {
            if value == 0 {
                return Err(ConfigError::setting(name, "must be at least 1"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::super::{Profile, load};
    use figment::Jail;

    #[test]
    fn ws_settings_come_from_the_environment_with_their_defaults() {
        Jail::expect_with(|jail| {
            let c = load(Profile::Standard, None).expect("defaults are valid");
            assert_eq!(
                (
                    c.ws.max_sockets_per_user,
                    c.ws.max_unauthenticated,
                    c.ws.max_exports_per_user
                ),
                (32, 1000, 2)
            );
            jail.set_env("PORTCULLIS_WS__MAX_SOCKETS_PER_USER", "4");
            jail.set_env("PORTCULLIS_WS__MAX_UNAUTHENTICATED", "50");
            jail.set_env("PORTCULLIS_WS__MAX_EXPORTS_PER_USER", "1");
            let c = load(Profile::Standard, None).expect("valid");
            assert_eq!(
                (
                    c.ws.max_sockets_per_user,
                    c.ws.max_unauthenticated,
                    c.ws.max_exports_per_user
                ),
                (4, 50, 1)
            );
            Ok(())
        });
    }

    #[test]
    fn zero_is_refused_and_named() {
        for var in [
            "PORTCULLIS_WS__MAX_SOCKETS_PER_USER",
            "PORTCULLIS_WS__MAX_UNAUTHENTICATED",
            "PORTCULLIS_WS__MAX_EXPORTS_PER_USER",
        ] {
            Jail::expect_with(|jail| {
                jail.set_env(var, "0");
                let e = load(Profile::Standard, None).expect_err("must be refused");
                assert!(e.to_string().contains(var), "{e}");
                Ok(())
            });
        }
    }
}
