//! Effective configuration: built-in defaults, then a TOML file (`--config`), then
//! `PORTCULLIS_*` environment variables with `__` for nesting. The setting names are part of
//! the operator contract (docs/configuration.md) and must not change.

mod auth;
mod cluster;
mod console;
mod database;
mod dev;
mod error;
mod flags;
mod http;
mod introspection;
mod list;
mod mfa;
mod rate_limit;
pub mod resource;
mod secret;
mod secret_file;
mod ws;

pub use auth::{
    AuthConfig, AuthProvider, AuthSettings, IntrospectionSettings, IssuerConfig, IssuerProfile,
    IssuerSettings,
};
pub use cluster::{ClusterConfig, ClusterSecret};
pub use console::{ClientSecret, ConsoleConfig};
pub use database::{DEFAULT_DATABASE_URL, DatabaseConfig};
pub use dev::{DEFAULT_TOTP_SECRET, DevClient, DevConfig, Persona, PersonaMembership, Redacted};
pub use error::ConfigError;
pub use flags::{FlagsConfig, WS_REVALIDATE_SECS_RANGE};
pub use http::HttpConfig;
pub use introspection::{IntrospectionAuth, IntrospectionToml, SecretValue};
pub use mfa::{MfaConfig, MfaRole};
pub use rate_limit::RateLimitConfig;
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
    /// This API's resource identifier (RFC 9728) and public base URL, the base of DPoP `htu`;
    /// `http://{listen}` when unset. Behind a proxy or load balancer, set it to the URL
    /// clients use.
    pub resource: Option<String>,
    /// `scopes_supported` of the protected-resource metadata.
    #[serde(deserialize_with = "list::comma_list")]
    pub resource_scopes: Vec<String>,
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
    /// The operator console's client at the issuer (`/console`).
    pub console: ConsoleConfig,
    /// The local identity provider of `portcullis dev`: clients, personas, lifetimes.
    pub dev: DevConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)),
            metrics_listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9464)),
            resource: None,
            resource_scopes: Vec::new(),
            database_url: database::default_database_url(),
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
            console: ConsoleConfig::default(),
            dev: DevConfig::default(),
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
        self.database.connect_options()
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
        if self.redis_url.is_some() && self.cluster_secret.is_none() {
            return Err(ConfigError::setting(
                "cluster_secret",
                "required with redis_url: it authenticates what instances share through Redis \
                 (at least 32 bytes, the same on every instance)",
            ));
        }
        if let Some(resource) = &self.resource {
            resource::parse(resource).map_err(|why| ConfigError::setting("resource", why))?;
        }
        self.auth.validate()?;
        self.database.validate()?;
        self.cluster.validate()?;
        self.mfa.validate()?;
        self.flags.validate()?;
        self.ws.validate()?;
        self.http.validate()?;
        self.console.validate()?;
        self.dev.validate()?;
        Ok(())
    }

    /// What `serve` needs on top of `validate`: a provider, and the settings that provider
    /// cannot work without.
    pub fn validate_for_serve(&self) -> Result<AuthSettings, ConfigError> {
        self.validate()?;
        self.auth.resolve()
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
    // A file listing [[auth.issuers]] says which issuers `dev` trusts (the dev issuer among
    // them, as an entry); `join` keeps whatever provider the file names.
    if profile == Profile::Dev && !fig.contains("auth.issuers") {
        fig = fig.join(Serialized::default("auth.provider", "dev"));
    }
    // The step-up challenge names what to ask the local identity provider for, so a client
    // can pass it on as `acr_values` with no further settings.
    if profile == Profile::Dev {
        fig = fig.join(Serialized::default("mfa.acr_values", ["mfa"]));
    }
    Ok(fig)
}

/// `PORTCULLIS_*` variables, `__` for nesting. Only known top-level settings are read: the
/// prefix is shared with variables that are not settings (`PORTCULLIS_LOG`,
/// `PORTCULLIS_TEST_DATABASE_URL`), so an unknown top-level name is ignored, while a typo inside
/// a section (`PORTCULLIS_AUTH__PROVDER`) is reported. The `*_FILE` variables of the secrets
/// are not settings either: `load` reads them on top of this provider.
pub fn env_provider() -> Env {
    let keys = top_level_keys();
    Env::prefixed(ENV_PREFIX).split("__").filter(move |key| {
        let top = key.as_str().split('.').next().unwrap_or_default();
        keys.iter().any(|k| k.eq_ignore_ascii_case(top))
    })
}

/// Taken from the settings struct itself, so a new setting cannot be forgotten here.
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

/// Defaults, file, then the process environment (with the secrets named by `*_FILE`).
pub fn load(profile: Profile, file: Option<&Path>) -> Result<Config, ConfigError> {
    let fig = secret_file::secret_files()?.into_iter().fold(
        base_figment(profile, file)?.merge(env_provider()),
        |fig, secret| fig.merge(secret),
    );
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
}
