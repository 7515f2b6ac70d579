//! Faults between two instances, one PostgreSQL and one Redis, with Redis reached through a TCP
//! proxy per instance that the test cuts and restores. Whatever Redis does, a logout on one
//! instance is refused on the other within `cluster.sync_interval_ms` + 1 s, the bound each test
//! asserts; nothing answers 5xx meanwhile.

use crate::support::binary::free_port;
use crate::support::proxy::Proxy;
use crate::support::services::{CLUSTER_ISSUER, redis_addr};
use crate::support::{TestApp, postgres_admin_url, redis_url};
use portcullis::config::RedisUrl;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const SYNC_INTERVAL: Duration = Duration::from_millis(1000);
/// What every test asserts: the sync interval plus one second.
const BOUND: Duration = Duration::from_millis(2000);

/// One instance's link to Redis: a proxy the test can cut and restore on the same address.
struct Link {
    addr: SocketAddr,
    upstream: SocketAddr,
    proxy: Option<Proxy>,
}

impl Link {
    async fn start(upstream: SocketAddr) -> Self {
        let (proxy, addr) = Proxy::start("127.0.0.1:0".parse().expect("addr"), upstream).await;
        Self {
            addr,
            upstream,
            proxy: Some(proxy),
        }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Closes the listener and every proxied connection, as a network cut does.
    async fn cut(&mut self) {
        if let Some(p) = self.proxy.take() {
            p.stop().await;
        }
    }

    async fn restore(&mut self) {
        if self.proxy.is_none() {
            let (p, _) = Proxy::start(self.addr, self.upstream).await;
            self.proxy = Some(p);
        }
    }
}

struct Pair {
    a: TestApp,
    b: TestApp,
    link_a: Link,
    link_b: Link,
}

/// Two instances on a fresh database, each reaching `redis` through its own link.
async fn pair(redis: &str, pg: &str, interval: Duration) -> Pair {
    let upstream = redis_addr(redis);
    let link_a = Link::start(upstream).await;
    let link_b = Link::start(upstream).await;
    let a = TestApp::postgres(pg)
        .with_redis(&link_a.url())
        .with_config(move |c| {
            c.auth.issuer = Some(CLUSTER_ISSUER.into());
            c.cluster.sync_interval_ms = interval.as_millis() as u64;
        })
        .start()
        .await;
    let mut config = a.config().clone();
    config.redis_url = Some(RedisUrl::parse(&link_b.url()).expect("url"));
    let b = a.instance(&config).await;
    a.wait_ready().await;
    b.wait_ready().await;
    Pair {
        a,
        b,
        link_a,
        link_b,
    }
}

async fn logout(app: &TestApp, token: &str) {
    app.bearer(token).post("/v1/auth/logout").expect(204).await;
}

/// Polls until `app` refuses `token`; fails on a 5xx or once `BOUND` has passed since `since`.
async fn refused_within_bound(app: &TestApp, token: &str, since: Instant, what: &str) {
    loop {
        let got = app.bearer(token).me().await;
        assert!(got < 500, "{what}: a {got} during the fault");
        if got == 401 {
            return;
        }
        assert!(
            since.elapsed() <= BOUND,
            "{what}: still accepted {:?} after the logout (bound {BOUND:?})",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn until_mode(app: &TestApp, want: &str, limit: Duration) {
    let start = Instant::now();
    while app.events_mode().await != want {
        assert!(start.elapsed() < limit, "never reached {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn session(app: &TestApp, sub: &str) -> String {
    app.caller(sub).token().to_owned()
}

fn services() -> Option<(String, String)> {
    Some((redis_url()?, postgres_admin_url()?))
}

/// The publisher's link is cut at the moment of the logout, so its nudge is lost; the other
/// instance stays connected, trusts its view, and still refuses the token within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_nudge_delays_a_logout_by_at_most_the_sync_interval() {
    let Some((redis, pg)) = services() else {
        return;
    };
    let mut p = pair(&redis, &pg, SYNC_INTERVAL).await;
    let token = session(&p.a, "alice");
    assert_eq!(p.b.bearer(&token).me().await, 200, "cached on B");
    p.link_a.cut().await;
    logout(&p.a, &token).await;
    let done = Instant::now();
    refused_within_bound(&p.b, &token, done, "B").await;
    assert_eq!(
        p.a.bearer(&token).me().await,
        401,
        "A applied its own logout at once"
    );
    // The link comes back: nothing is replayed into acceptance.
    p.link_a.restore().await;
    until_mode(&p.a, "live", Duration::from_secs(10)).await;
    assert_eq!(p.a.bearer(&token).me().await, 401);
    assert_eq!(p.b.bearer(&token).me().await, 401);
}

/// A Redis server of this test's own, restarted between two logouts.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/test installs it)");
        Self { port, child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn until_redis_answers(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server on {port} did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logouts_before_and_after_a_redis_restart_hold_everywhere() {
    let Some((_, pg)) = services() else {
        return;
    };
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    until_redis_answers(port).await;
    let p = pair(&format!("redis://127.0.0.1:{port}"), &pg, SYNC_INTERVAL).await;
    let first = session(&p.a, "bob");
    let second = session(&p.a, "carol");
    for app in [&p.a, &p.b] {
        assert_eq!(app.bearer(&first).me().await, 200);
        assert_eq!(app.bearer(&second).me().await, 200);
    }
    logout(&p.a, &first).await;
    let done = Instant::now();
    refused_within_bound(&p.b, &first, done, "first logout on B").await;

    redis.stop();
    let restarted = OwnRedis::start(port);
    until_redis_answers(restarted.port).await;
    // The first publish after a restart is the one a connection manager loses.
    logout(&p.b, &second).await;
    let done = Instant::now();
    refused_within_bound(&p.a, &second, done, "second logout on A").await;
    for app in [&p.a, &p.b] {
        assert_eq!(
            app.bearer(&first).me().await,
            401,
            "the first logout still holds"
        );
        assert_eq!(app.bearer(&second).me().await, 401);
    }
    until_mode(&p.a, "live", Duration::from_secs(15)).await;
    until_mode(&p.b, "live", Duration::from_secs(15)).await;
    drop(restarted);
}

/// Runs `sql` in its own psql session in the background (the test database's URL).
fn psql(url: &str, sql: &str) -> std::process::Child {
    std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("psql runs")
}

/// B reconnects to Redis while its catch-up cannot read the audit log (the table is locked by
/// another session, and the blocked catch-up query is then killed, so it fails). Throughout,
/// B answers revocation checks from the database and refuses the token; it reports `live` only
/// once a catch-up has succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_catch_up_after_a_reconnect_falls_back_to_the_database() {
    let Some((redis, pg)) = services() else {
        return;
    };
    let mut p = pair(&redis, &pg, SYNC_INTERVAL).await;
    let token = session(&p.a, "dave");
    assert_eq!(p.b.bearer(&token).me().await, 200, "cached on B");
    p.link_b.cut().await;
    until_mode(&p.b, "database_fallback", Duration::from_secs(10)).await;
    logout(&p.a, &token).await;
    assert_eq!(p.b.bearer(&token).me().await, 401, "B asks the database");

    let db_url = p.a.database_url().to_owned();
    let mut lock = psql(
        &db_url,
        "BEGIN; LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;",
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.link_b.restore().await;
    // The catch-up after the reconnect blocks on the lock; kill it so that it fails.
    let start = Instant::now();
    let mut killed = false;
    while start.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            p.b.bearer(&token).me().await,
            401,
            "refused while B cannot catch up"
        );
        assert_eq!(p.b.events_mode().await, "database_fallback");
        if !killed {
            // Only the catch-up of this test's database, blocked on the lock.
            let out = std::process::Command::new("psql")
                .args([db_url.as_str(), "-t", "-A", "-c"])
                .arg(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock' \
                     AND query LIKE '%MAX(seq)%' AND pid <> pg_backend_pid()",
                )
                .output()
                .expect("psql runs");
            killed = String::from_utf8_lossy(&out.stdout).contains('t');
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(killed, "the blocked catch-up was terminated");
    let _ = lock.wait();
    until_mode(&p.b, "live", Duration::from_secs(10)).await;
    assert_eq!(
        p.b.bearer(&token).me().await,
        401,
        "and from memory once caught up"
    );
    let metrics = p.b.scrape().await;
    let failures = metrics
        .lines()
        .find(|l| l.starts_with("portcullis_cluster_sync_failures_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_default();
    assert!(
        failures >= 1.0,
        "the failed catch-up is counted:\n{metrics}"
    );
}

/// A small deterministic generator, seeded and printed so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 30 logouts at random moments, on a random instance, while random links are cut and
/// restored: every one is refused on both instances within the bound, and stays refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_logouts_during_random_link_cuts_are_all_refused_within_the_bound() {
    let Some((redis, pg)) = services() else {
        return;
    };
    let seed = std::env::var("PORTCULLIS_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(1)
        });
    eprintln!("fault seed: {seed} (set PORTCULLIS_FAULT_SEED to replay)");
    let mut rng = Rng(seed);
    let mut p = pair(&redis, &pg, SYNC_INTERVAL).await;
    let mut revoked = Vec::new();
    for round in 0..30 {
        for (link, on) in [(&mut p.link_a, rng.below(3)), (&mut p.link_b, rng.below(3))] {
            match on {
                0 => link.cut().await,
                1 => link.restore().await,
                _ => {}
            }
        }
        let token = session(&p.a, &format!("user-{round}"));
        let (here, there) = if rng.below(2) == 0 {
            (&p.a, &p.b)
        } else {
            (&p.b, &p.a)
        };
        assert_eq!(
            there.bearer(&token).me().await,
            200,
            "round {round}: accepted before"
        );
        tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
        logout(here, &token).await;
        let done = Instant::now();
        refused_within_bound(there, &token, done, &format!("round {round} (seed {seed})")).await;
        assert_eq!(
            here.bearer(&token).me().await,
            401,
            "round {round}: on the instance itself"
        );
        revoked.push(token);
    }
    p.link_a.restore().await;
    p.link_b.restore().await;
    for (i, token) in revoked.iter().enumerate() {
        for app in [&p.a, &p.b] {
            assert_eq!(
                app.bearer(token).me().await,
                401,
                "logout {i} accepted again (seed {seed})"
            );
        }
    }
}
