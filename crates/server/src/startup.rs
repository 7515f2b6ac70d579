//! Building the application from a configuration, and running it until shutdown.
//!
//! Tests use [`App::spawn`] with `listen` and `metrics_listen` on port 0 and read the bound
//! addresses from the returned [`RunningApp`].
//!
//! Database availability at start-up: SQLite is local, so failing to open or migrate it is
//! fatal. PostgreSQL may legitimately come up after us (or be briefly down during a deploy), so
//! if it cannot be reached the server starts anyway, `/readyz` answers 503, and a background
//! task retries the migration with capped exponential backoff until it succeeds. Once migrated,
//! readiness follows a bounded ping, and the connection pool reconnects on its own after an
//! outage: no restart is ever needed.

use crate::config::Config;
use crate::database::Database;
use crate::http::{self, HttpSettings};
use crate::listen::{ServeSettings, serve};
use crate::metrics;
use crate::readiness::Readiness;
use crate::shutdown::Shutdown;
use crate::state::AppState;
use crate::verifier;
use anyhow::Context;
use axum::Router;
use portcullis_auth::clock::{Clock, SystemClock};
use portcullis_store::StoreError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A built application: listeners bound, database opened, not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    metrics_listener: TcpListener,
    router: Router,
    metrics_router: Router,
    shutdown: Shutdown,
    settings: ServeSettings,
    background: Vec<JoinHandle<()>>,
    database: Database,
    dev_issuer: Option<Arc<portcullis_dev_issuer::DevIssuer>>,
}

/// Which command the application runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `portcullis serve` (and `App::spawn`): the dev issuer, if configured, only publishes its
    /// keys.
    Serve,
    /// `portcullis dev`: with the dev issuer, also its identity provider (sign-in page, OAuth
    /// endpoints) and the persona seed.
    Dev,
}

/// Opens the database, runs migrations (see the module docs for PostgreSQL being down), builds
/// both routers and binds both listeners.
pub async fn build(config: &Config) -> anyhow::Result<App> {
    build_as(config, Mode::Serve).await
}

/// [`build`] for `mode`.
pub async fn build_as(config: &Config, mode: Mode) -> anyhow::Result<App> {
    // Bound first: a port conflict is reported before any time is spent on the database.
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding the API listener to {}", config.listen))?;
    let metrics_listener = TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("binding the metrics listener to {}", config.metrics_listen))?;
    let database = Database::connect(&config.database_url, &config.connect_options())
        .await
        .with_context(|| format!("opening the database {}", config.database_url.0))?;
    let shutdown = Shutdown::new();
    let readiness = Readiness::default();
    let background: Vec<JoinHandle<()>> = prepare_schema(&database, &readiness, &shutdown)
        .await?
        .into_iter()
        .collect();

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let addr = listener.local_addr()?;
    let mut auth_settings = config.auth.resolve()?;
    let with_idp = mode == Mode::Dev && auth_settings.dev().is_some();
    if with_idp {
        // The identity provider's clients sign tokens the verifier must take.
        let ids: Vec<String> = config
            .dev
            .effective_clients()
            .into_iter()
            .map(|c| c.client_id)
            .collect();
        auth_settings.accept_dev_clients(&ids);
    }
    let auth = verifier::build(config, &auth_settings, addr, Arc::clone(&clock)).await?;
    let mut background = background;
    background.extend(auth.refreshers);
    background.push(metrics::upkeep::spawn(metrics::upkeep::INTERVAL));
    let dev_issuer = auth.dev_issuer.clone();
    let client_issuers = auth.client_issuers;
    let admin_group = crate::dev_idp::admin_group(config, &auth_settings);
    if with_idp
        && readiness.is_migrated()
        && let Some(issuer) = &dev_issuer
    {
        let personas = config.dev.effective_personas(&admin_group);
        let seeded = crate::dev_idp::seed::run(
            database.store().as_ref(),
            issuer.issuer_url(),
            &personas,
            clock.now(),
        )
        .await
        .context("seeding the dev personas")?;
        tracing::info!(?seeded, personas = personas.len(), "dev personas seeded");
    }

    let bus = match &config.redis_url {
        Some(url) => {
            let key = crate::cluster::key::ClusterKey::from_config(config)?;
            let (bus, link) =
                crate::cluster::bus::Bus::with_redis(url.0.expose(), &config.redis_prefix, key)
                    .context("configuring Redis")?;
            background.push(link);
            bus
        }
        None => crate::cluster::bus::Bus::local(),
    };
    let principals =
        crate::principal::PrincipalCache::with_budget(config.auth.principal_cache_max_bytes);
    let flags = crate::flags::Flags::new(config, &auth_settings.accepted_clients());
    let view = Arc::new(crate::cluster::view::RevocationView::default());
    let sync = Arc::new(crate::cluster::ClusterSync::new(
        database.store(),
        bus.clone(),
        Arc::clone(&view),
        principals.clone(),
        Arc::clone(&auth.verifier),
        flags.clone(),
        Arc::clone(&clock),
        config.cluster.sync_interval(),
    ));
    // The first load, so the instance starts with a current view; if the database is not there
    // yet, requests ask it directly until the background catch-up succeeds.
    if readiness.is_migrated() {
        let _ = sync.catch_up().await;
    }
    background.push(Arc::clone(&sync).spawn());
    let changes = crate::changes::Changes::new(Arc::clone(&sync), bus);
    let revocations = crate::revocation::Revocations::new(
        database.store(),
        sync,
        changes.clone(),
        view,
        Arc::clone(&clock),
        crate::revocation::SessionSettings {
            leeway: Duration::from_secs(config.auth.leeway_secs),
            session_revocation_days: config.auth.session_revocation_days,
        },
    );
    let resource = Arc::new(crate::protected_resource::ProtectedResource::new(
        config,
        addr,
        &auth.verifier,
    )?);
    let state = AppState::new(crate::state::AppStateInner {
        store: database.store(),
        readiness,
        verifier: auth.verifier,
        clock,
        principals,
        revocations,
        changes,
        client_issuers: Arc::from(client_issuers),
        limits: crate::limits::rate::RateLimits::new(&config.rate_limit),
        flags,
        mfa: Arc::new(crate::mfa::MfaPolicy::from_config(&config.mfa)),
        page_max_bytes: config.http.page_max_bytes,
        shutdown: shutdown.clone(),
        ws_caps: crate::limits::sockets::Caps::new(&config.ws),
        resource,
    });
    let dev_routes = dev_issuer.as_ref().map(|issuer| {
        if with_idp {
            let idp =
                crate::dev_idp::Idp::new(config, Arc::clone(issuer), &admin_group, state.clone());
            let routes = portcullis_dev_issuer::jwks_router(Arc::clone(issuer))
                .merge(crate::dev_idp::routes(Arc::new(idp)));
            // The faults page and the example app belong with the identity provider.
            let personas = config
                .dev
                .effective_personas(&admin_group)
                .into_iter()
                .map(|p| p.sub)
                .collect();
            Router::new()
                .nest(verifier::DEV_ISSUER_PATH, routes)
                .merge(http::dev::routes(
                    state.clone(),
                    Arc::clone(issuer),
                    personas,
                ))
        } else {
            Router::new().nest(
                verifier::DEV_ISSUER_PATH,
                portcullis_dev_issuer::router(Arc::clone(issuer)),
            )
        }
    });
    let metrics_router = metrics::router(Arc::clone(&state.verifier));
    let settings = HttpSettings {
        request_timeout: config.request_timeout(),
    };
    let first_issuer = state
        .verifier
        .providers()
        .next()
        .map(|p| p.issuer().to_owned());
    let console = crate::console::build(config, &auth_settings, addr, first_issuer, with_idp)?;
    if let Err(off) = &console {
        tracing::info!(reason = off.0, "the console (/console) is off");
    }
    let console_routes = crate::console::router(crate::console::ConsoleState {
        app: state.clone(),
        console: console.map(Arc::new),
    });
    let extra = match dev_routes {
        Some(dev) => dev.merge(console_routes),
        None => console_routes,
    };
    Ok(App {
        listener,
        metrics_listener,
        router: http::router(state, &settings, Some(extra)),
        metrics_router,
        shutdown,
        settings: ServeSettings {
            grace: config.shutdown_grace(),
            header_read_timeout: config.header_read_timeout(),
            send_timeout: config.send_timeout(),
            max_connections: config.max_client_connections as usize,
        },
        background,
        database,
        dev_issuer,
    })
}

/// Migrates now; for a remote database that is unavailable, hands the job to a background task.
async fn prepare_schema(
    database: &Database,
    readiness: &Readiness,
    shutdown: &Shutdown,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    match database.migrate().await {
        Ok(()) => {
            readiness.mark_migrated();
            Ok(None)
        }
        Err(e @ StoreError::Unavailable(_)) if database.is_remote() => {
            tracing::warn!(error = %e, "database unavailable at start-up; /readyz is 503 until it is reachable and migrated");
            Ok(Some(tokio::spawn(migrate_until_done(
                database.clone(),
                readiness.clone(),
                shutdown.clone(),
            ))))
        }
        Err(e) => Err(anyhow::Error::new(e).context("migrating the database")),
    }
}

async fn migrate_until_done(database: Database, readiness: Readiness, shutdown: Shutdown) {
    let mut delay = Duration::from_millis(250);
    loop {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.wait() => return,
        }
        match database.migrate().await {
            Ok(()) => {
                tracing::info!("database reachable and migrated; ready");
                readiness.mark_migrated();
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "migration failed; retrying");
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

impl App {
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn metrics_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.metrics_listener.local_addr()?)
    }

    /// A handle that stops [`App::run`] gracefully when triggered.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The embedded dev issuer, when `auth.provider` is `dev`.
    pub fn dev_issuer(&self) -> Option<&Arc<portcullis_dev_issuer::DevIssuer>> {
        self.dev_issuer.as_ref()
    }

    /// Serves until the shutdown handle is triggered, then lets in-flight requests finish for
    /// at most the grace period before returning (see [`serve`]).
    pub async fn run(self) -> anyhow::Result<()> {
        let App {
            listener,
            metrics_listener,
            router,
            metrics_router,
            shutdown,
            settings,
            background,
            database: _,
            dev_issuer: _,
        } = self;
        // WebSockets leave the HTTP drain at their upgrade and close themselves with 1001 on
        // shutdown; they get the same grace period, counted from the same moment, so the whole
        // stop takes at most `grace`.
        let sockets = async {
            shutdown.wait().await;
            if tokio::time::timeout(settings.grace, shutdown.released())
                .await
                .is_err()
            {
                tracing::warn!("WebSockets still open after the grace period; dropping them");
            }
        };
        let (result, ()) = tokio::join!(
            async {
                tokio::try_join!(
                    serve(listener, router, shutdown.clone(), settings),
                    serve(metrics_listener, metrics_router, shutdown.clone(), settings),
                )
            },
            sockets
        );
        let result = result.map(|_| ());
        for task in background {
            task.abort();
        }
        result
    }

    /// Builds and starts serving on a background task.
    pub async fn spawn(config: &Config) -> anyhow::Result<RunningApp> {
        Self::spawn_as(config, Mode::Serve).await
    }

    /// [`App::spawn`] for `mode`.
    pub async fn spawn_as(config: &Config, mode: Mode) -> anyhow::Result<RunningApp> {
        let app = build_as(config, mode).await?;
        let addr = app.addr()?;
        let metrics_addr = app.metrics_addr()?;
        let shutdown = app.shutdown_handle();
        let handle = tokio::spawn(app.run());
        Ok(RunningApp {
            addr,
            metrics_addr,
            shutdown,
            handle,
        })
    }
}

/// A server started by [`App::spawn`].
#[derive(Debug)]
pub struct RunningApp {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub shutdown: Shutdown,
    pub handle: JoinHandle<anyhow::Result<()>>,
}

impl RunningApp {
    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `http://{metrics_addr}{path}`.
    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://{}{}", self.metrics_addr, path)
    }

    /// Triggers graceful shutdown and waits for the server to stop.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.handle.await.context("server task panicked")?
    }
}
