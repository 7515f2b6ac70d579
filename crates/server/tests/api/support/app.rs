//! `TestApp`: one server on port 0 with a database of its own, and the check every test ends
//! with: the audit chain of that database still verifies.

use super::caller::Caller;
use super::services::{CLUSTER_ISSUER, cluster_secret, redis_prefix};
use portcullis::config::{AuthProvider, Config, DatabaseUrl, RedisUrl};
use portcullis::{App, Mode, RunningApp};
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use portcullis_store::ConnectOptions;
use portcullis_store_postgres::testdb::TestDatabase;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

/// Defaults, with both listeners on port 0 so tests can run in parallel, and the embedded dev
/// issuer (its key in a fresh directory under the system temp dir).
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        metrics_listen: "127.0.0.1:0".parse().expect("valid address"),
        database_url: DatabaseUrl::parse(database_url).expect("valid database URL"),
        data_dir: std::env::temp_dir().join(format!("portcullis-test-{}", uuid::Uuid::now_v7())),
        ..Config::default()
    };
    config.auth.provider = Some(AuthProvider::Dev);
    // Tests fire bursts from one address; the rate limit tests turn the limits back on.
    config.rate_limit.per_ip = 0;
    config.rate_limit.per_user = 0;
    config
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

/// Where a test's data lives: a temporary directory (the dev issuer's key, and the SQLite file)
/// and, for PostgreSQL, a database of its own. Shared by every instance started on it.
struct Storage {
    database_url: String,
    dir: TempDir,
    _postgres: Option<TestDatabase>,
}

/// A change to the configuration, applied before the start.
type Configure = Box<dyn FnOnce(&mut Config) + Send>;

enum Backend {
    Sqlite,
    Postgres(String),
}

/// Says which database and configuration a [`TestApp`] starts with.
pub struct TestAppBuilder {
    backend: Backend,
    redis: Option<String>,
    issuer: Option<Arc<DevIssuer>>,
    database_port: Option<u16>,
    configure: Vec<Configure>,
    mode: Mode,
}

impl TestAppBuilder {
    /// Starts as `portcullis dev` does: with the dev issuer's identity provider and the
    /// persona seed.
    pub fn dev_mode(mut self) -> Self {
        self.mode = Mode::Dev;
        self
    }

    /// Changes the configuration before the start; several calls apply in order.
    pub fn with_config(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    /// Shares `redis` under a key prefix of this app's own, with the test cluster secret.
    pub fn with_redis(mut self, redis: &str) -> Self {
        self.redis = Some(redis.to_owned());
        self
    }

    /// Reaches the database through `127.0.0.1:{port}` (a proxy the test can cut) instead of
    /// directly.
    pub fn database_through(mut self, port: u16) -> Self {
        self.database_port = Some(port);
        self
    }

    /// Verifies the tokens of `issuer`, a real HTTP issuer on loopback, as a Cognito user pool;
    /// callers get their tokens from it.
    pub fn cognito(mut self, issuer: &Arc<DevIssuer>) -> Self {
        let url = issuer.issuer_url().to_owned();
        self.issuer = Some(Arc::clone(issuer));
        self.with_config(move |c| {
            c.auth.provider = Some(AuthProvider::Cognito);
            c.auth.issuer = Some(url);
            c.auth.allow_http_issuer = true;
            c.auth.client_ids = vec!["portcullis-dev".into()];
        })
    }

    /// The same issuer as a generic OIDC provider (discovery), accepting audience `api`.
    pub fn oidc(mut self, issuer: &Arc<DevIssuer>) -> Self {
        let url = issuer.issuer_url().to_owned();
        self.issuer = Some(Arc::clone(issuer));
        self.with_config(move |c| {
            c.auth.provider = Some(AuthProvider::Oidc);
            c.auth.issuer = Some(url);
            c.auth.allow_http_issuer = true;
            c.auth.audiences = vec!["api".into()];
        })
    }

    async fn storage(&self) -> Storage {
        let dir = tempfile::tempdir().expect("temp dir");
        match &self.backend {
            Backend::Sqlite => Storage {
                database_url: format!("sqlite://{}/p.db", dir.path().display()),
                dir,
                _postgres: None,
            },
            Backend::Postgres(admin) => {
                let db = TestDatabase::create(admin).await.expect("test database");
                Storage {
                    database_url: db.url().to_owned(),
                    dir,
                    _postgres: Some(db),
                }
            }
        }
    }

    fn config(&mut self, storage: &Storage) -> Config {
        let mut config = test_config(&storage.database_url);
        if let Some(port) = self.database_port {
            let mut url = reqwest::Url::parse(&storage.database_url).expect("database URL");
            url.set_host(Some("127.0.0.1")).expect("host");
            url.set_port(Some(port)).expect("port");
            config.database_url = DatabaseUrl::parse(url.as_str()).expect("database URL");
        }
        config.data_dir = storage.dir.path().to_owned();
        if let Some(redis) = &self.redis {
            config.redis_url = Some(RedisUrl::parse(redis).expect("redis url"));
            config.redis_prefix = redis_prefix();
            config.cluster_secret = Some(cluster_secret());
        }
        for f in self.configure.drain(..) {
            f(&mut config);
        }
        config
    }

    /// Starts the server; it may still be loading its issuer keys (see [`TestApp::wait_ready`]).
    pub async fn start(mut self) -> TestApp {
        let storage = Arc::new(self.storage().await);
        let config = self.config(&storage);
        TestApp::spawn(storage, config, self.issuer, self.mode).await
    }

    /// Two instances on one database (and one Redis, with [`Self::with_redis`]) that trust one
    /// issuer: the dev issuer, with one key and one issuer URL, unless another was given; both
    /// ready.
    pub async fn start_cluster(mut self) -> super::cluster::Cluster {
        let storage = Arc::new(self.storage().await);
        self.configure
            .insert(0, Box::new(|c| c.auth.issuer = Some(CLUSTER_ISSUER.into())));
        let config = self.config(&storage);
        // One after the other: the second finds what the first shared (an issuer's keys).
        let a = TestApp::spawn(Arc::clone(&storage), config.clone(), self.issuer, self.mode).await;
        a.wait_ready().await;
        let b = a.instance(&config).await;
        b.wait_ready().await;
        super::cluster::Cluster { a, b }
    }
}

/// A running server for one test. Dropped at the end of a test that passed, it checks that the
/// audit chain of its database still verifies: whatever a test did through the API, the log
/// stays intact. The check is in `Drop` rather than in a method to call, so that no test can
/// leave it out.
pub struct TestApp {
    server: Option<RunningApp>,
    config: Config,
    pub client: reqwest::Client,
    issuer: Option<Arc<DevIssuer>>,
    storage: Arc<Storage>,
    mode: Mode,
}

impl TestApp {
    /// An app on a fresh SQLite file.
    pub fn sqlite() -> TestAppBuilder {
        TestAppBuilder {
            backend: Backend::Sqlite,
            redis: None,
            issuer: None,
            database_port: None,
            configure: Vec::new(),
            mode: Mode::Serve,
        }
    }

    /// An app on a fresh database of the PostgreSQL server named by `admin_url`.
    pub fn postgres(admin_url: &str) -> TestAppBuilder {
        TestAppBuilder {
            backend: Backend::Postgres(admin_url.to_owned()),
            ..Self::sqlite()
        }
    }

    async fn spawn(
        storage: Arc<Storage>,
        config: Config,
        issuer: Option<Arc<DevIssuer>>,
        mode: Mode,
    ) -> Self {
        let server = App::spawn_as(&config, mode).await.expect("app starts");
        let issuer = issuer.or_else(|| {
            (config.auth.provider == Some(AuthProvider::Dev)).then(|| {
                let url = config
                    .auth
                    .issuer
                    .clone()
                    .unwrap_or_else(|| format!("http://{}/dev-issuer", server.addr));
                Arc::new(DevIssuer::open(&config.data_dir, url).expect("the app's dev issuer key"))
            })
        });
        Self {
            server: Some(server),
            config,
            client: client(),
            issuer,
            storage,
            mode,
        }
    }

    /// Another instance on this app's database, started with `config` (this one's, changed).
    pub async fn instance(&self, config: &Config) -> TestApp {
        Self::spawn(
            Arc::clone(&self.storage),
            config.clone(),
            self.issuer.clone(),
            self.mode,
        )
        .await
    }

    /// What this app was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The URL of this app's database (not of a proxy a test may have put in front of it).
    pub fn database_url(&self) -> &str {
        &self.storage.database_url
    }

    fn server(&self) -> &RunningApp {
        self.server.as_ref().expect("the server was stopped")
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.server().addr
    }

    pub fn url(&self, path: &str) -> String {
        self.server().url(path)
    }

    pub fn metrics_url(&self, path: &str) -> String {
        self.server().metrics_url(path)
    }

    /// The issuer this app trusts, to mint tokens with any claims.
    pub fn issuer(&self) -> &DevIssuer {
        self.issuer
            .as_deref()
            .expect("this app has no issuer of the test's: use `bearer` with its own tokens")
    }

    /// A user with a fresh token (`sub` and username `name`).
    pub fn caller(&self, name: &str) -> Caller {
        self.caller_with(TokenSpec::new(name).username(name))
    }

    /// A platform admin (`sub` and username `name`, in the `portcullis-admin` group).
    pub fn admin(&self, name: &str) -> Caller {
        self.caller_with(
            TokenSpec::new(name)
                .username(name)
                .groups(["portcullis-admin"]),
        )
    }

    /// A caller with a token minted from `spec`.
    pub fn caller_with(&self, spec: TokenSpec) -> Caller {
        self.bearer(&self.issuer().mint_access(&spec))
    }

    /// A caller sending `token` as it is.
    pub fn bearer(&self, token: &str) -> Caller {
        Caller::new(self, Some(token.to_owned()))
    }

    /// A caller without a token.
    pub fn anonymous(&self) -> Caller {
        Caller::new(self, None)
    }

    /// Polls `/readyz` until it answers 200 (issuer keys load in the background at start-up).
    pub async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(res) = self.client.get(self.url("/readyz")).send().await
                && res.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the app did not become ready within 5 s");
    }

    /// What `/readyz` says of the instance's view: `live` (in memory, current) or
    /// `database_fallback` (every check asks the database).
    pub async fn events_mode(&self) -> String {
        let body: serde_json::Value = self
            .client
            .get(self.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json");
        body["events"].as_str().unwrap_or_default().to_owned()
    }

    /// The metrics listener's text.
    pub async fn scrape(&self) -> String {
        let res = self
            .client
            .get(self.metrics_url("/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(res.status(), 200);
        res.text().await.expect("text")
    }

    /// Triggers graceful shutdown and waits for the server to stop. The app stays, with its
    /// database, to start another instance on it.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.stopping().await
    }

    /// The shutdown as a future of its own, which holds the server and not the app, so that a
    /// test can spawn it and watch it wait.
    pub fn stopping(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send + 'static {
        let server = self.server.take();
        async move {
            match server {
                Some(server) => server.stop().await,
                None => Ok(()),
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let url = self.storage.database_url.clone();
        // Drop cannot await, and blocking the test's runtime on itself would deadlock: a
        // runtime of its own on a thread of its own reads the log (through a connection of its
        // own, so the server, still running or not, is not needed).
        let report = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(verify_audit_chain(&url))
        })
        .join()
        .unwrap_or_else(|_| Err("the audit check panicked".into()));
        match report {
            Ok(report) => assert!(
                report.is_intact(),
                "the audit chain is broken at the end of the test: {:?}",
                report.breaks
            ),
            Err(e) => panic!("the audit chain could not be read at the end of the test: {e}"),
        }
    }
}

async fn verify_audit_chain(
    url: &str,
) -> Result<portcullis_store::audit_chain::ChainReport, String> {
    use portcullis_store::audit_chain::verify_log;
    let opts = ConnectOptions::default();
    let report = if url.starts_with("sqlite:") {
        let store = portcullis_store_sqlite::SqliteStore::connect(url, &opts)
            .await
            .map_err(|e| e.to_string())?;
        verify_log(&store).await
    } else {
        let store =
            portcullis_store_postgres::PgStore::connect(url, &opts).map_err(|e| e.to_string())?;
        verify_log(&store).await
    };
    report.map_err(|e| e.to_string())
}
