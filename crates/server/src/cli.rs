//! The `portcullis` command line. Exit codes: 0 success, 1 runtime failure, 2 invalid
//! configuration or usage (clap uses 2 for usage errors too).

use crate::config::{self, AuthProvider, Config, ConfigError, Profile};
use crate::database::Database;
use crate::shutdown;
use crate::startup;
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Multi-tenant resource API with hardened token verification"
)]
pub struct Cli {
    /// TOML configuration file; `PORTCULLIS_*` environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Local development: SQLite under ./.portcullis/, the embedded dev issuer, 127.0.0.1:8080.
    Dev,
    /// Production: refuses to start without an auth provider.
    Serve,
    /// Create or upgrade the database schema (idempotent), then exit.
    Migrate,
    /// Print the effective configuration with secrets redacted; exit 2 if `serve` (or `dev`
    /// with `--dev`) would refuse it.
    CheckConfig {
        #[arg(long, value_enum, default_value_t = OutputFormat::Toml)]
        format: OutputFormat,
        /// Check the configuration `dev` would use instead of `serve`.
        #[arg(long)]
        dev: bool,
    },
    /// Mint an access token from the embedded dev issuer (the key in the data directory), for
    /// a server running `portcullis dev` with the same configuration. Prints only the token.
    Token {
        /// The token's subject.
        #[arg(long, default_value = portcullis_dev_issuer::DEFAULT_SUB)]
        sub: String,
        /// IdP groups (`cognito:groups`), comma separated; the admin group makes a platform admin.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// Lifetime: `90s`, `15m`, `8h`, `1d` (at most the configured cap, 24 h by default).
        #[arg(long, default_value = "1h", value_parser = crate::dev_tokens::parse_ttl)]
        ttl: std::time::Duration,
        /// Extra claim `k=v` (the value is JSON if it parses as JSON, else a string); repeatable.
        #[arg(long = "claim", value_name = "K=V")]
        claims: Vec<String>,
        /// Whose claim shape the token has: cognito (the default), auth0, entra, entra-v1,
        /// keycloak, okta, google or oidc. `--groups` go where that provider puts roles.
        #[arg(long, default_value = "cognito", value_parser = crate::dev_tokens::parse_shape)]
        profile: portcullis_dev_issuer::Shape,
        /// `aud` of the non-Cognito shapes (`api://portcullis` unless given).
        #[arg(long)]
        audience: Option<String>,
        /// Entra `tid` or Google `hd`.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Remove orgs and resources soft-deleted longer ago than `--older-than`, and token
    /// revocations whose tokens have expired.
    Purge(crate::ops::purge::PurgeArgs),
    /// Verify the audit log's hash chain, or export the log as NDJSON.
    Audit {
        #[command(subcommand)]
        command: crate::ops::audit::AuditCommand,
    },
    /// Break the running `portcullis dev`'s issuer on purpose (the `/dev-issuer/faults` page
    /// from a shell): rotate or add keys, take the JWKS down, issue broken tokens, revoke a
    /// persona's sessions.
    DevFault(crate::dev_fault::DevFaultArgs),
    /// Manage users: link an identity at another issuer to a user.
    Users {
        #[command(subcommand)]
        command: crate::ops::users::UsersCommand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Toml,
    Json,
}

enum Failure {
    Config(ConfigError),
    /// A bad command-line value; exits 2 like clap's own usage errors.
    Usage(String),
    Runtime(anyhow::Error),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Runtime(e)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig { format, dev } => check_config(cli.config, format, dev),
        Command::Token {
            sub,
            groups,
            ttl,
            claims,
            profile,
            audience,
            tenant,
        } => {
            let shaping = crate::dev_tokens::Shaping {
                shape: profile,
                audience,
                tenant,
            };
            token(cli.config, &sub, &groups, ttl, &claims, &shaping)
        }
        Command::DevFault(args) => dev_fault(&args),
        command => run_async(cli.config, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(e)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            tracing::error!(error = format!("{e:#}"), "fatal");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_async(file: Option<PathBuf>, command: Command) -> Result<(), Failure> {
    // Configuration is read before the runtime and the logger exist, so a bad setting is one
    // clean line on stderr and exit 2.
    let profile = match command {
        Command::Dev => Profile::Dev,
        _ => Profile::Standard,
    };
    let config = config::load(profile, file.as_deref())?;
    if matches!(command, Command::Serve) {
        config.validate_for_serve()?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(anyhow::Error::new(e).context("starting the runtime")))?;
    runtime.block_on(async move {
        match command {
            Command::Dev => {
                let _log = telemetry::init(LogFormat::Pretty);
                serve(&config, true).await
            }
            Command::Serve => {
                let _log = telemetry::init(LogFormat::Json);
                if config.auth.provider == Some(AuthProvider::Dev) {
                    tracing::warn!(
                        "serve is running with the dev issuer: anyone with its key can mint tokens; never do this in production"
                    );
                }
                serve(&config, false).await
            }
            Command::Migrate => {
                let _log = telemetry::init(LogFormat::Pretty);
                migrate(&config).await
            }
            Command::Purge(args) => {
                let _log = telemetry::init(LogFormat::Pretty);
                Ok(crate::ops::purge::run(&config, &args).await?)
            }
            Command::Audit { command } => {
                let _log = telemetry::init(LogFormat::Pretty);
                Ok(crate::ops::audit::run(&config, command).await?)
            }
            Command::Users { command } => {
                let _log = telemetry::init(LogFormat::Pretty);
                Ok(crate::ops::users::run(&config, command).await?)
            }
            Command::CheckConfig { .. } | Command::Token { .. } | Command::DevFault(_) => Ok(()),
        }
    })
}

async fn serve(config: &Config, dev: bool) -> Result<(), Failure> {
    let mode = if dev {
        startup::Mode::Dev
    } else {
        startup::Mode::Serve
    };
    let app = startup::build_as(config, mode).await?;
    let addr = app.addr()?;
    let metrics_addr = app.metrics_addr()?;
    if dev {
        print_dev_banner(
            config,
            addr,
            metrics_addr,
            app.dev_issuer().map(AsRef::as_ref),
        );
    }
    tracing::info!(%addr, %metrics_addr, database = %config.database_url.0, "listening");
    let shutdown = app.shutdown_handle();
    tokio::spawn(async move {
        shutdown::os_signal().await;
        shutdown.trigger();
    });
    app.run().await?;
    tracing::info!("stopped");
    Ok(())
}

fn print_dev_banner(
    config: &Config,
    addr: std::net::SocketAddr,
    metrics: std::net::SocketAddr,
    issuer: Option<&portcullis_dev_issuer::DevIssuer>,
) {
    // Written with errors ignored: a closed stdout (a detached terminal, a reader that went
    // away) must not bring the server down the way `println!` would.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nPortcullis dev server\n\
         \n  API       http://{addr}\
         \n  metrics   http://{metrics}/metrics\
         \n  database  {db}",
        db = config.database_url.0,
    );
    let Some(issuer) = issuer else {
        let _ = writeln!(
            out,
            "  auth      {:?} (no dev tokens: the dev issuer is not in use)\n",
            config.auth.provider
        );
        return;
    };
    // With [[auth.issuers]], the dev entry's own admin role.
    let admin_role = match config.auth.resolve() {
        Ok(settings) => match settings.dev() {
            Some(config::IssuerSettings::Dev { admin_roles, .. }) => admin_roles.first().cloned(),
            _ => None,
        },
        Err(_) => None,
    };
    let admin_role = admin_role.unwrap_or_else(|| config.auth.admin_group.clone());
    let (admin, member) = crate::dev_tokens::ready_made(issuer, &admin_role);
    let base = issuer.issuer_url().trim_end_matches('/');
    let _ = writeln!(
        out,
        "  sign-in   {base}/.well-known/openid-configuration\
         \n            (authorization code + PKCE S256, public client `portcullis-dev`)"
    );
    let _ = writeln!(
        out,
        "  example   http://{addr}/examples/spa/ (a single-page app signing in here)\
         \n  faults    http://{addr}/dev-issuer/faults (or `portcullis dev-fault --help`)"
    );
    for persona in config.dev.effective_personas(&admin_role) {
        let mut about: Vec<String> = persona
            .memberships
            .iter()
            .map(|m| format!("{} of {}", m.role, m.org))
            .collect();
        if persona.groups.contains(&admin_role) {
            about.insert(0, "platform admin".into());
        }
        if let Some(secret) = persona.totp_secret.as_ref().filter(|_| persona.has_totp()) {
            about.push(format!("TOTP secret {}", secret.expose()));
        }
        let _ = writeln!(out, "  persona   {:<12} {}", persona.sub, about.join(", "));
    }
    let _ = writeln!(
        out,
        "  issuer    {iss} (keys in {dir})\
         \n\nTokens (valid {hours} h; mint more with `portcullis token --sub NAME --groups G1,G2`):\
         \n\n  ADMIN_TOKEN={admin}\
         \n\n  MEMBER_TOKEN={member}\
         \n\nTry:\
         \n  curl -i http://{addr}/healthz\
         \n  curl -i http://{addr}/readyz\
         \n  curl -H \"Authorization: Bearer $MEMBER_TOKEN\" http://{addr}/v1/me\
         \n\nStop with Ctrl-C.\n",
        iss = issuer.issuer_url(),
        dir = config.data_dir.display(),
        hours = crate::dev_tokens::DEV_TOKEN_TTL.as_secs() / 3600,
    );
}

/// `portcullis token`: opens the dev issuer the way `dev` does (same data directory, same
/// issuer URL from the same configuration) and prints one token.
fn token(
    file: Option<PathBuf>,
    sub: &str,
    groups: &[String],
    ttl: std::time::Duration,
    claims: &[String],
    shaping: &crate::dev_tokens::Shaping,
) -> Result<(), Failure> {
    let config = config::load(Profile::Dev, file.as_deref())?;
    let settings = config.auth.resolve()?;
    let Some(config::IssuerSettings::Dev { issuer, .. }) = settings.dev() else {
        return Err(Failure::Config(ConfigError::setting(
            "auth.provider",
            "`portcullis token` mints dev-issuer tokens and needs the dev provider (or a \
             [[auth.issuers]] entry with profile = \"dev\")",
        )));
    };
    if ttl.as_secs() > config.auth.max_token_lifetime_secs {
        return Err(Failure::Usage(format!(
            "--ttl is longer than the accepted token lifetime ({} s, auth.max_token_lifetime_secs)",
            config.auth.max_token_lifetime_secs
        )));
    }
    let url = issuer
        .clone()
        .unwrap_or_else(|| crate::verifier::dev_issuer_url(config.listen));
    let issuer = crate::verifier::open_dev_issuer(&config.data_dir, &url)?;
    let spec =
        crate::dev_tokens::spec(sub, groups, ttl, claims, shaping).map_err(Failure::Usage)?;
    println!("{}", issuer.mint_access(&spec));
    Ok(())
}

/// `portcullis dev-fault`: needs no configuration, only the dev server's address.
fn dev_fault(args: &crate::dev_fault::DevFaultArgs) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(anyhow::Error::new(e).context("starting the runtime")))?;
    Ok(runtime.block_on(crate::dev_fault::run(args))?)
}

async fn migrate(config: &Config) -> Result<(), Failure> {
    let db = Database::connect(&config.database_url, &config.connect_options())
        .await
        .map_err(|e| anyhow::Error::new(e).context("opening the database"))?;
    db.migrate()
        .await
        .map_err(|e| anyhow::Error::new(e).context("migrating the database"))?;
    println!("database schema is up to date ({})", config.database_url.0);
    Ok(())
}

fn check_config(file: Option<PathBuf>, format: OutputFormat, dev: bool) -> Result<(), Failure> {
    let profile = if dev { Profile::Dev } else { Profile::Standard };
    let config = config::load(profile, file.as_deref())?;
    if !dev {
        config.validate_for_serve()?;
    }
    for warning in trade_offs(&config) {
        eprintln!("warning: {warning}");
    }
    // Serialization of secrets is redacted by their types, so this output is safe to share.
    let text = match format {
        OutputFormat::Toml => toml::to_string_pretty(&config).map_err(anyhow::Error::new)?,
        OutputFormat::Json => serde_json::to_string_pretty(&config).map_err(anyhow::Error::new)?,
    };
    println!("{}", text.trim_end());
    Ok(())
}

/// Settings that are valid but give up a protection, said out loud by `check-config`.
fn trade_offs(config: &config::Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !config.flags.revocation_check_reads {
        out.push(
            "flags.revocation_check_reads is false: a logged-out, revoked or signed-out token can \
             still read (GET, HEAD, including admin listings) until it expires",
        );
    }
    out
}
