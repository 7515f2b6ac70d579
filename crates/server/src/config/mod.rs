//! Effective configuration: built-in defaults, then a TOML file (`--config`), then
//! `PORTCULLIS_*` environment variables with `__` for nesting. The setting names are part of
//! the operator contract (docs/configuration.md) and must not change.

mod cluster;
mod error;
mod http;
mod list;
mod mfa;
mod secret;
mod ws;

pub use cluster::{ClusterConfig, ClusterSecret};
pub use error::ConfigError;
pub use http::HttpConfig;
pub use mfa::{FlagsConfig, MfaConfig};
pub use secret::{DatabaseUrl, RedisUrl, SecretUrl};
pub use ws::WsConfig;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;
use std::time::Duration;

pub const ENV_PREFIX: &str = "PORTCULLIS_";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Public API address.
    pub listen: SocketAddr,
    /// Prometheus `/metrics`, on its own listener so it is never exposed with the API.
    pub metrics_listen: SocketAddr,
    pub database_url: DatabaseUrl,
    /// Unset: caches, revocation and pub/sub stay in-process (one instance only).
    pub redis_url: Option<RedisUrl>,
    /// Prefix of every Redis key and channel, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// Authenticates what instances share through Redis; required with `redis_url`.
    pub cluster_secret: Option<ClusterSecret>,
    pub cluster: ClusterConfig,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    /// Upper bound on one request's handling; on expiry the client gets 503.
    pub request_timeout_secs: u64,
    /// The longest wait for a request's complete head (request line and headers); on expiry the
    /// connection is closed. Also the idle limit of a kept-alive connection, hence the default
    /// above common load balancers' idle timeouts (60 s).
    pub header_read_timeout_secs: u64,
    /// A connection whose writes make no progress for this long (the client stopped reading)
    /// is closed. Counted between writes, not over a whole response.
    pub send_timeout_secs: u64,
    /// Open client connections per listener; past it, new connections wait in the kernel's
    /// accept queue until one closes.
    pub max_client_connections: u32,
    /// How long in-flight requests may run after SIGTERM/SIGINT before they are cut off.
    pub shutdown_grace_secs: u64,
    pub database: DatabaseConfig,
    /// Local state that is not in the database: the dev issuer's signing keys.
    pub data_dir: std::path::PathBuf,
    /// MFA step-up policy and the defaults of the `mfa.*` flags.
    pub mfa: MfaConfig,
    /// Defaults of the other runtime flags.
    pub flags: FlagsConfig,
    /// WebSocket and export caps per instance.
    pub ws: WsConfig,
    /// Bounds on response sizes.
    pub http: HttpConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)),
            metrics_listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9464)),
            database_url: DatabaseUrl(SecretUrl::default_database()),
            redis_url: None,
            redis_prefix: "portcullis".into(),
            cluster_secret: None,
            cluster: ClusterConfig::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            request_timeout_secs: 30,
            header_read_timeout_secs: 75,
            send_timeout_secs: 60,
            max_client_connections: 10_000,
            shutdown_grace_secs: 20,
            database: DatabaseConfig::default(),
            data_dir: std::path::PathBuf::from("./.portcullis"),
            mfa: MfaConfig::default(),
            flags: FlagsConfig::default(),
            ws: WsConfig::default(),
            http: HttpConfig::default(),
        }
    }
}

impl SecretUrl {
    fn default_database() -> Self {
        Self::parse(DEFAULT_DATABASE_URL, secret::DATABASE_SCHEMES)
            .unwrap_or_else(|_| unreachable!("the default database URL is valid"))
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./.portcullis/portcullis.db";

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

/// Sustained requests per second; `0` turns a limit off. The defaults leave room for a busy
/// single-page app (bursts of parallel calls) while stopping a single client from flooding
/// the token verifier or the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Before authentication, per client IP: also bounds the cost of garbage tokens.
    pub per_ip: u32,
    /// After authentication, per user.
    pub per_user: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_ip: 50,
            per_user: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    /// How long a query waits for a pooled connection before the request fails with 503.
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout_secs: 3,
        }
    }
}

impl Config {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn connect_options(&self) -> portcullis_store::ConnectOptions {
        portcullis_store::ConnectOptions {
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_secs(self.database.acquire_timeout_secs),
        }
    }

    /// Checks that hold for every subcommand, after deserialization has checked each value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.request_timeout_secs == 0 {
            return Err(ConfigError::setting(
                "request_timeout_secs",
                "must be at least 1",
            ));
        }
        for (name, secs) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("send_timeout_secs", self.send_timeout_secs),
            (
                "max_client_connections",
                u64::from(self.max_client_connections),
            ),
        ] {
            if secs == 0 {
                return Err(ConfigError::setting(name, "must be at least 1"));
            }
        }
        if self.auth.algorithms.is_empty()
            || self
                .auth
                .algorithms
                .iter()
                .any(|a| portcullis_auth::keys::Alg::from_name(a).is_none())
        {
            return Err(ConfigError::setting(
                "auth.algorithms",
                "must list RS256 and/or ES256",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::setting(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        if self.redis_url.is_some() && self.cluster_secret.is_none() {
            return Err(ConfigError::setting(
                "cluster_secret",
                "required with redis_url: it authenticates what instances share through Redis \
                 (at least 32 bytes, the same on every instance)",
            ));
        }
        // An empty group would make every token listing an empty group a platform admin.
        if self.auth.admin_group.trim().is_empty() {
            return Err(ConfigError::setting(
                "auth.admin_group",
                "must name a group (platform admins are the members of that IdP group)",
            ));
        }
        if !(1..=3650).contains(&self.auth.session_revocation_days) {
            return Err(ConfigError::setting(
                "auth.session_revocation_days",
                "must be between 1 and 3650",
            ));
        }
        self.cluster.validate()?;
        self.mfa.validate()?;
        self.flags.validate()?;
        self.ws.validate()?;
        self.http.validate()?;
        Ok(())
    }

    /// An explicit issuer must be https, or loopback http with `allow_http_issuer`.
    fn check_issuer_url(&self) -> Result<(), ConfigError> {
        match &self.auth.issuer {
            Some(url) => {
                portcullis_auth::provider::check_issuer_url(url, self.auth.allow_http_issuer)
                    .map_err(|why| ConfigError::setting("auth.issuer", why))
            }
            None => Ok(()),
        }
    }

    /// What `serve` needs on top of `validate`: a provider, and the settings that provider
    /// cannot work without.
    pub fn validate_for_serve(&self) -> Result<(), ConfigError> {
        self.validate()?;
        let a = &self.auth;
        match a.provider {
            None => Err(ConfigError::setting(
                "auth.provider",
                "`serve` needs an auth provider: set PORTCULLIS_AUTH__PROVIDER to cognito or oidc \
                 (or run `portcullis dev` for local development)",
            )),
            Some(AuthProvider::Cognito) => {
                self.check_issuer_url()?;
                if a.issuer.is_none() && a.region.is_none() {
                    return Err(ConfigError::setting(
                        "auth.region",
                        "required for cognito unless auth.issuer is set",
                    ));
                }
                if a.issuer.is_none() && a.user_pool_id.is_none() {
                    return Err(ConfigError::setting(
                        "auth.user_pool_id",
                        "required for cognito unless auth.issuer is set",
                    ));
                }
                if a.client_ids.is_empty() {
                    return Err(ConfigError::setting(
                        "auth.client_ids",
                        "cognito needs at least one accepted app client id",
                    ));
                }
                Ok(())
            }
            Some(AuthProvider::Oidc) => {
                if a.issuer.is_none() {
                    return Err(ConfigError::setting("auth.issuer", "required for oidc"));
                }
                self.check_issuer_url()?;
                if a.audiences.is_empty() {
                    return Err(ConfigError::setting(
                        "auth.audiences",
                        "oidc needs at least one accepted audience",
                    ));
                }
                Ok(())
            }
            Some(AuthProvider::Dev) => Ok(()),
        }
    }
}

/// Which defaults apply before the file and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `serve`, `migrate`, `check-config`: no auth provider unless configured.
    Standard,
    /// `dev`: the embedded dev issuer unless configured otherwise.
    Dev,
}

/// The layered sources, without the process environment: tests add their own env layer (or a
/// `figment::Jail`) so they never race on the real environment.
pub fn base_figment(profile: Profile, file: Option<&Path>) -> Result<Figment, ConfigError> {
    let mut fig = Figment::new();
    if profile == Profile::Dev {
        fig = fig.merge(Serialized::default("auth.provider", "dev"));
    }
    if let Some(path) = file {
        // figment silently ignores a missing file; a file named on the command line must exist.
        if !path.is_file() {
            return Err(ConfigError::new(
                "--config",
                format!("cannot read {}", path.display()),
            ));
        }
        fig = fig.merge(Toml::file_exact(path));
    }
    Ok(fig)
}

/// `PORTCULLIS_*` variables, `__` for nesting. Only known top-level settings are read: the
/// prefix is shared with variables that are not settings (`PORTCULLIS_LOG`,
/// `PORTCULLIS_TEST_DATABASE_URL`), so an unknown top-level name is ignored, while a typo inside
/// a section (`PORTCULLIS_AUTH__PROVDER`) is reported.
pub fn env_provider() -> Env {
    // Only variables naming a real top-level setting are read: `PORTCULLIS_LOG` and the test
    // suites' `PORTCULLIS_TEST_*` share the prefix. The names come from the settings struct
    // itself, so a new setting can never be forgotten here.
    let keys = top_level_keys();
    Env::prefixed(ENV_PREFIX).split("__").filter(move |key| {
        let top = key.as_str().split('.').next().unwrap_or_default();
        keys.iter().any(|k| k.eq_ignore_ascii_case(top))
    })
}

fn top_level_keys() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Extracts and validates a configuration from any figment.
///
/// Unless `database_url` is set, the SQLite database lives in `data_dir` with the rest of the
/// local state, so moving `data_dir` moves all of it.
pub fn from_figment(fig: &Figment) -> Result<Config, ConfigError> {
    let mut cfg: Config = fig.extract().map_err(ConfigError::from_figment)?;
    if !fig.contains("database_url") {
        cfg.database_url = DatabaseUrl::sqlite_in(&cfg.data_dir)
            .map_err(|why| ConfigError::setting("data_dir", why))?;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Defaults, file, then the process environment.
pub fn load(profile: Profile, file: Option<&Path>) -> Result<Config, ConfigError> {
    let fig = base_figment(profile, file)?.merge(env_provider());
    from_figment(&fig)
}

#[cfg(test)]
// `Jail`'s closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load_in_jail(profile: Profile, file: Option<&str>) -> Result<Config, ConfigError> {
        load(profile, file.map(Path::new))
    }

    #[test]
    fn defaults_match_the_design() {
        Jail::expect_with(|_| {
            let c = load_in_jail(Profile::Standard, None).expect("defaults are valid");
            assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(c.metrics_listen.to_string(), "127.0.0.1:9464");
            assert_eq!(c.database_url.0.expose(), DEFAULT_DATABASE_URL);
            assert_eq!(c.data_dir, std::path::PathBuf::from("./.portcullis"));
            assert!(c.redis_url.is_none());
            assert_eq!(c.auth.provider, None);
            assert_eq!(c.auth.admin_group, "portcullis-admin");
            assert!(!c.auth.allow_http_issuer);
            assert_eq!(c.request_timeout_secs, 30);
            assert!(!c.mfa.required && c.mfa.required_roles.is_empty() && c.mfa.routes.is_empty());
            assert_eq!(c.mfa.claim, "amr");
            assert_eq!(c.mfa.values, ["mfa", "otp", "hwk", "swk", "sms"]);
            assert!(c.mfa.acr_values.is_empty() && c.mfa.max_age_secs.is_none());
            assert!(c.flags.revocation_check_reads && c.flags.jit_provisioning);
            assert_eq!(c.flags.ws_revalidate_secs, 30);
            let d = load_in_jail(Profile::Dev, None).expect("dev defaults are valid");
            assert_eq!(d.auth.provider, Some(AuthProvider::Dev));
            Ok(())
        });
    }

    #[test]
    fn the_default_sqlite_database_follows_data_dir() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_DATA_DIR", "/var/lib/portcullis");
            let c = load_in_jail(Profile::Standard, None).expect("valid");
            assert_eq!(
                c.database_url.0.expose(),
                "sqlite:///var/lib/portcullis/portcullis.db"
            );
            jail.set_env("PORTCULLIS_DATABASE_URL", "sqlite:///srv/other.db");
            let c = load_in_jail(Profile::Standard, None).expect("valid");
            assert_eq!(c.database_url.0.expose(), "sqlite:///srv/other.db");
            assert_eq!(c.data_dir, std::path::PathBuf::from("/var/lib/portcullis"));
            jail.clear_env();
            jail.set_env("PORTCULLIS_DATA_DIR", "/srv/what?mode=memory");
            let e = load_in_jail(Profile::Standard, None)
                .map(|_| ())
                .expect_err("refused");
            assert!(
                e.to_string().to_ascii_lowercase().contains("data_dir"),
                "{e}"
            );
            Ok(())
        });
    }

    #[test]
    fn env_overrides_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "p.toml",
                r#"
                listen = "0.0.0.0:9000"
                metrics_listen = "0.0.0.0:9001"
                [auth]
                provider = "oidc"
                audiences = ["a", "b"]
                [rate_limit]
                per_ip = 7
                "#,
            )?;
            jail.set_env("PORTCULLIS_LISTEN", "127.0.0.1:7000");
            jail.set_env("PORTCULLIS_AUTH__CLIENT_IDS", "c1, c2,");
            jail.set_env("PORTCULLIS_AUTH__PROVIDER", "cognito");
            jail.set_env("PORTCULLIS_LOG", "debug");
            jail.set_env("PORTCULLIS_TEST_DATABASE_URL", "postgres://x@y/z");
            let c = load_in_jail(Profile::Standard, Some("p.toml")).expect("valid");
            assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
            assert_eq!(c.metrics_listen.to_string(), "0.0.0.0:9001");
            assert_eq!(c.auth.provider, Some(AuthProvider::Cognito));
            assert_eq!(c.auth.audiences, ["a", "b"]);
            assert_eq!(c.auth.client_ids, ["c1", "c2"]);
            assert_eq!(c.rate_limit.per_ip, 7);
            assert_eq!(c.rate_limit.per_user, 20);
            Ok(())
        });
    }

    #[test]
    fn every_top_level_setting_is_read_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_DATA_DIR", "/var/lib/portcullis");
            jail.set_env("PORTCULLIS_SHUTDOWN_GRACE_SECS", "5");
            let c = load_in_jail(Profile::Standard, None).expect("valid");
            assert_eq!(c.data_dir, std::path::PathBuf::from("/var/lib/portcullis"));
            assert_eq!(c.shutdown_grace_secs, 5);
            Ok(())
        });
    }

    #[test]
    fn serve_refuses_a_plain_http_issuer() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__PROVIDER", "oidc");
            jail.set_env("PORTCULLIS_AUTH__AUDIENCES", "api");
            jail.set_env("PORTCULLIS_AUTH__ISSUER", "http://idp.example");
            let c = load_in_jail(Profile::Standard, None).expect("loads");
            let e = c
                .validate_for_serve()
                .expect_err("http issuer refused")
                .to_string();
            assert!(e.contains("PORTCULLIS_AUTH__ISSUER"), "{e}");
            // Loopback http only with the explicit opt-in.
            jail.set_env("PORTCULLIS_AUTH__ISSUER", "http://127.0.0.1:9000");
            let c = load_in_jail(Profile::Standard, None).expect("loads");
            assert!(c.validate_for_serve().is_err());
            jail.set_env("PORTCULLIS_AUTH__ALLOW_HTTP_ISSUER", "true");
            let c = load_in_jail(Profile::Standard, None).expect("loads");
            assert!(c.validate_for_serve().is_ok());
            Ok(())
        });
    }

    #[test]
    fn numeric_client_id_from_env_stays_text() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__CLIENT_IDS", "12345");
            let c = load_in_jail(Profile::Standard, None).expect("valid");
            assert_eq!(c.auth.client_ids, ["12345"]);
            Ok(())
        });
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "PORTCULLIS_LISTEN",
                "not-an-addr",
                "PORTCULLIS_LISTEN: invalid socket address",
            ),
            (
                "PORTCULLIS_AUTH__PROVIDER",
                "saml",
                "PORTCULLIS_AUTH__PROVIDER: unknown value",
            ),
            (
                "PORTCULLIS_DATABASE_URL",
                "mysql://u:pw@h/d",
                "PORTCULLIS_DATABASE_URL: unsupported URL scheme",
            ),
            (
                "PORTCULLIS_REDIS_URL",
                "http://h",
                "PORTCULLIS_REDIS_URL: unsupported URL scheme",
            ),
            (
                "PORTCULLIS_RATE_LIMIT__PER_IP",
                "lots",
                "PORTCULLIS_RATE_LIMIT__PER_IP: invalid type",
            ),
            (
                "PORTCULLIS_AUTH__PROVDER",
                "dev",
                "PORTCULLIS_AUTH__PROVDER: unknown setting",
            ),
        ];
        for (var, value, expected) in cases {
            Jail::expect_with(|jail| {
                jail.set_env(var, value);
                let e = load_in_jail(Profile::Standard, None).expect_err("must be refused");
                let msg = e.to_string();
                assert!(msg.starts_with("invalid configuration: "), "{msg}");
                assert!(msg.contains(expected), "{msg} should contain {expected}");
                assert!(!msg.contains("pw@"), "{msg} leaks the value");
                Ok(())
            });
        }
    }

    #[test]
    fn unknown_key_in_toml_is_named_with_its_file() {
        Jail::expect_with(|jail| {
            jail.create_file("p.toml", "[auth]\nprovder = \"dev\"\n")?;
            let e = load_in_jail(Profile::Standard, Some("p.toml")).expect_err("refused");
            let msg = e.to_string();
            assert!(
                msg.contains("auth.provder") && msg.contains("p.toml"),
                "{msg}"
            );
            jail.create_file("q.toml", "listen = 8080\n")?;
            let e = load_in_jail(Profile::Standard, Some("q.toml")).expect_err("refused");
            assert!(e.to_string().contains("listen"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn missing_config_file_is_an_error() {
        Jail::expect_with(|_| {
            let e = load_in_jail(Profile::Standard, Some("nope.toml")).expect_err("refused");
            assert!(e.to_string().contains("--config"), "{e}");
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
    fn debug_and_serialized_output_hide_passwords() {
        Jail::expect_with(|jail| {
            jail.set_env(
                "PORTCULLIS_DATABASE_URL",
                "postgres://app:dbpass@db/portcullis",
            );
            jail.set_env("PORTCULLIS_REDIS_URL", "redis://:redispass@cache:6379");
            jail.set_env(
                "PORTCULLIS_CLUSTER_SECRET",
                "clustersecret-clustersecret-clustersecret",
            );
            let c = load_in_jail(Profile::Standard, None).expect("valid");
            let debug = format!("{c:?}");
            let json = serde_json::to_string(&c).expect("serializes");
            let toml = toml::to_string(&c).expect("serializes");
            for out in [debug, json, toml] {
                assert!(
                    !out.contains("dbpass")
                        && !out.contains("redispass")
                        && !out.contains("clustersecret"),
                    "{out}"
                );
                assert!(out.contains("***"), "{out}");
            }
            assert_eq!(
                c.database_url.0.expose(),
                "postgres://app:dbpass@db/portcullis"
            );
            Ok(())
        });
    }

    #[test]
    fn redis_needs_a_cluster_secret_of_32_bytes() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_REDIS_URL", "redis://cache:6379");
            let e = load_in_jail(Profile::Standard, None).expect_err("no secret");
            assert_eq!(e.setting, "PORTCULLIS_CLUSTER_SECRET", "{e}");
            jail.set_env("PORTCULLIS_CLUSTER_SECRET", "short-secret-value");
            let e = load_in_jail(Profile::Standard, None).expect_err("too short");
            assert!(e.setting.contains("CLUSTER_SECRET"), "{e}");
            assert!(
                e.reason.contains("32 bytes") && !e.to_string().contains("short-secret-value"),
                "{e}"
            );
            jail.set_env("PORTCULLIS_CLUSTER_SECRET", "s".repeat(32));
            let c = load_in_jail(Profile::Standard, None).expect("valid");
            assert_eq!(c.cluster.sync_interval_ms, 1000);
            jail.set_env("PORTCULLIS_CLUSTER__SYNC_INTERVAL_MS", "0");
            let e = load_in_jail(Profile::Standard, None).expect_err("interval");
            assert_eq!(e.setting, "PORTCULLIS_CLUSTER__SYNC_INTERVAL_MS");
            Ok(())
        });
    }

    #[test]
    fn an_empty_admin_group_is_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_AUTH__ADMIN_GROUP", " ");
            let e = load_in_jail(Profile::Standard, None).expect_err("empty group");
            assert_eq!(e.setting, "PORTCULLIS_AUTH__ADMIN_GROUP");
            Ok(())
        });
    }
}
