//! Starting the app for a test, and checks shared by several tests.

use portcullis::config::{AuthProvider, Config, DatabaseUrl};
use portcullis::{App, RunningApp};
use reqwest::Response;
use tempfile::TempDir;

/// A running app on a fresh SQLite file; the directory lives as long as this value.
pub struct TestApp {
    pub app: RunningApp,
    pub client: reqwest::Client,
    _dir: Option<TempDir>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }
}

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

/// Polls `/readyz` until it answers 200 (issuer keys load in the background at start-up).
pub async fn wait_ready(app: &TestApp) {
    for _ in 0..100 {
        if let Ok(res) = app.client.get(app.url("/readyz")).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the app did not become ready within 5 s");
}

pub async fn spawn_sqlite() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/portcullis.db", dir.path().display());
    let app = App::spawn(&test_config(&url)).await.expect("app starts");
    TestApp {
        app,
        client: client(),
        _dir: Some(dir),
    }
}

pub async fn spawn_with(config: &Config) -> TestApp {
    let app = App::spawn(config).await.expect("app starts");
    TestApp {
        app,
        client: client(),
        _dir: None,
    }
}

/// The status of `method path` on `app` with `token`.
pub async fn status(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> u16 {
    client()
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// The status of `GET /v1/me` with `token`.
pub async fn me(app: &TestApp, token: &str) -> u16 {
    status(app, reqwest::Method::GET, "/v1/me", token).await
}

/// What `/readyz` says of the instance's view: `live` (in memory, current) or
/// `database_fallback` (every check asks the database).
pub async fn events_mode(app: &TestApp) -> String {
    let body: serde_json::Value = client()
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    body["events"].as_str().unwrap_or_default().to_owned()
}

/// Creates an org as the token's user through `POST {base}/v1/orgs`; returns its id.
pub async fn create_org(client: &reqwest::Client, base: &str, token: &str, name: &str) -> String {
    let res = client
        .post(format!("{base}/v1/orgs"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .expect("create org");
    assert_eq!(res.status(), 201, "creating org {name}");
    let org: serde_json::Value = res.json().await.expect("json");
    org["id"].as_str().expect("org id").to_owned()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client builds")
}

pub fn request_id(res: &Response) -> String {
    res.headers()
        .get("x-request-id")
        .expect("every response has x-request-id")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Asserts an RFC 9457 body with the given status whose `request_id` is the header's, and
/// returns the body.
pub async fn assert_problem(res: Response, status: u16) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status);
    let id = request_id(&res);
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    assert_eq!(ct.as_deref(), Some("application/problem+json"));
    let body: serde_json::Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], id.as_str());
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body
}

/// The Postgres admin URL, or `None` (with a note) when Postgres tests should be skipped.
/// In CI a missing URL is a failure: a silently skipped suite proves nothing.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("PORTCULLIS_TEST_DATABASE_URL must be set when CI=true")
        }
        _ => {
            eprintln!("skipping: PORTCULLIS_TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// Forwards connections to `upstream`. Dropping it (or `stop`) closes the listener and every
/// proxied connection, which is what a database crash looks like from the app.
pub struct Proxy {
    tasks: tokio::task::JoinSet<()>,
}

impl Proxy {
    pub async fn start(
        bind: std::net::SocketAddr,
        upstream: std::net::SocketAddr,
    ) -> (Self, std::net::SocketAddr) {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .expect("proxy binds");
        let addr = listener.local_addr().expect("addr");
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                conns.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        (Self { tasks }, addr)
    }

    /// Aborting the accept task drops the listener and its `JoinSet`, which aborts every
    /// connection task and closes their sockets.
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}

/// The Redis URL for tests, or `None` (with a note) when Redis tests should be skipped. In CI a
/// missing URL is a failure.
pub fn redis_url() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("PORTCULLIS_TEST_REDIS_URL must be set when CI=true")
        }
        _ => {
            eprintln!("skipping: PORTCULLIS_TEST_REDIS_URL is not set");
            None
        }
    }
}

/// The `iss` both instances of a [`Cluster`] give their dev tokens, so either accepts the
/// other's.
pub const CLUSTER_ISSUER: &str = "http://127.0.0.1:1/dev-issuer";

/// Two instances on one database and, with `redis` (URL, key prefix), one Redis; the dev
/// issuer's key is shared through one data directory.
pub struct Cluster {
    pub a: TestApp,
    pub b: TestApp,
    pub issuer: portcullis_dev_issuer::DevIssuer,
    pub config: portcullis::Config,
    /// Holds the shared data directory (the dev issuer's key) for as long as the cluster lives.
    pub dir: tempfile::TempDir,
}

pub async fn cluster(database_url: &str, redis: Option<(&str, &str)>) -> Cluster {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = test_config(database_url);
    config.data_dir = dir.path().to_owned();
    config.auth.issuer = Some(CLUSTER_ISSUER.into());
    if let Some((url, prefix)) = redis {
        config.redis_url = Some(portcullis::config::RedisUrl::parse(url).expect("redis url"));
        config.redis_prefix = prefix.to_owned();
        config.cluster_secret = Some(cluster_secret());
    }
    let a = spawn_with(&config).await;
    let b = spawn_with(&config).await;
    wait_ready(&a).await;
    wait_ready(&b).await;
    let issuer =
        portcullis_dev_issuer::DevIssuer::open(dir.path(), CLUSTER_ISSUER.into()).expect("issuer");
    Cluster {
        a,
        b,
        issuer,
        config,
        dir,
    }
}

/// The secret both instances of a test cluster share.
pub const CLUSTER_SECRET: &str = "test cluster secret, at least thirty-two bytes long";

pub fn cluster_secret() -> portcullis::config::ClusterSecret {
    portcullis::config::ClusterSecret::new(CLUSTER_SECRET).expect("long enough")
}

/// Instances that verify the tokens of a real HTTP issuer (Cognito-shaped, on loopback) and
/// share Redis under `prefix` with the test cluster secret; SQLite in `dir`.
pub fn issuer_and_redis_config(
    dir: &std::path::Path,
    issuer_url: &str,
    redis: &str,
    prefix: &str,
) -> Config {
    let mut config = test_config(&format!("sqlite://{}/p.db", dir.display()));
    config.auth.provider = Some(AuthProvider::Cognito);
    config.auth.issuer = Some(issuer_url.to_owned());
    config.auth.allow_http_issuer = true;
    config.auth.client_ids = vec!["portcullis-dev".into()];
    config.redis_url = Some(portcullis::config::RedisUrl::parse(redis).expect("redis url"));
    config.redis_prefix = prefix.to_owned();
    config.cluster_secret = Some(cluster_secret());
    config
}

/// A Redis key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("test-{}", uuid::Uuid::now_v7().simple())
}
