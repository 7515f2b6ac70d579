//! The services some tests need beyond the app: PostgreSQL and Redis (skipped when their URL
//! is not set, except in CI), and what the instances of a test cluster share.

/// The Postgres admin URL, or `None` (with a note) when Postgres tests should be skipped.
/// In CI a missing URL is a failure: a silently skipped suite proves nothing.
pub fn postgres_admin_url() -> Option<String> {
    service_url("PORTCULLIS_TEST_DATABASE_URL")
}

/// The Redis URL for tests, or `None` (with a note) when Redis tests should be skipped. In CI a
/// missing URL is a failure.
pub fn redis_url() -> Option<String> {
    service_url("PORTCULLIS_TEST_REDIS_URL")
}

fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{var} must be set when CI=true")
        }
        _ => {
            eprintln!("skipping: {var} is not set");
            None
        }
    }
}

/// A Redis key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("test-{}", uuid::Uuid::now_v7().simple())
}

/// The `iss` both instances of a cluster give their dev tokens, so either accepts the other's.
pub const CLUSTER_ISSUER: &str = "http://127.0.0.1:1/dev-issuer";

/// The secret the instances of a test cluster share.
pub const CLUSTER_SECRET: &str = "test cluster secret, at least thirty-two bytes long";

pub fn cluster_secret() -> portcullis::config::ClusterSecret {
    portcullis::config::ClusterSecret::new(CLUSTER_SECRET).expect("long enough")
}

/// The `ip:port` a `redis://` URL names (an IP address, as in the test services).
pub fn redis_addr(redis: &str) -> std::net::SocketAddr {
    let url = reqwest::Url::parse(redis).expect("redis url");
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(6379)
    )
    .parse()
    .expect("the Redis URL uses an IP address")
}
