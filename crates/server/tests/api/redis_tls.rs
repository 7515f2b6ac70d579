//! `rediss://`: the server reaches a TLS-only Redis (a redis-server of the test's own, with a
//! certificate from a CA made for the test) and trusts it only through `SSL_CERT_FILE`: without
//! the CA the connection is refused and the instance never becomes ready.

use crate::support::binary::{Killed, command, free_port};
use crate::support::services::CLUSTER_SECRET;
use crate::support::{client, redis_url};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for 127.0.0.1 signed by it, in `dir`.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=portcullis test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "redis.key",
            "-out",
            "redis.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("ext"), "subjectAltName=IP:127.0.0.1\n").expect("write");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "redis.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "redis.crt",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
}

fn tls_redis(dir: &Path, port: u16) -> Killed {
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            "redis.crt",
            "--tls-key-file",
            "redis.key",
        ])
        .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
        .args(["--save", "", "--appendonly", "no"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server runs (scripts/test installs it)");
    Killed(child)
}

fn serve(dir: &Path, redis_port: u16, ca: Option<&Path>) -> (Killed, u16) {
    let port = free_port();
    let mut cmd = command(dir, port, &["serve"]);
    cmd.env("PORTCULLIS_AUTH__PROVIDER", "dev")
        .env(
            "PORTCULLIS_REDIS_URL",
            format!("rediss://127.0.0.1:{redis_port}"),
        )
        .env("PORTCULLIS_CLUSTER_SECRET", CLUSTER_SECRET)
        .env_remove("SSL_CERT_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match ca {
        Some(ca) => cmd.env("SSL_CERT_FILE", ca),
        None => cmd.env_remove("SSL_CERT_FILE"),
    };
    (Killed(cmd.spawn().expect("serve starts")), port)
}

async fn readyz(port: u16) -> Option<serde_json::Value> {
    let res = client()
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    res.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_works_and_verifies_the_server_certificate() {
    // Under CI=true `redis_url` fails rather than skips when Redis is missing.
    if redis_url().is_none() {
        return;
    }
    let certs = tempfile::tempdir().expect("dir");
    certificates(certs.path());
    let redis_port = free_port();
    let _redis = tls_redis(certs.path(), redis_port);

    let trusting = tempfile::tempdir().expect("dir");
    let (_a, a) = serve(
        trusting.path(),
        redis_port,
        Some(&certs.path().join("ca.crt")),
    );
    let start = Instant::now();
    loop {
        if let Some(body) = readyz(a).await
            && body["events"] == "live"
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the instance trusting the CA never subscribed over TLS"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The same server without the CA: the certificate is not trusted, Redis is never reached,
    // and /readyz stays 503 (it is 200 for an instance that reached Redis, as above).
    let untrusting = tempfile::tempdir().expect("dir");
    let (_b, b) = serve(untrusting.path(), redis_port, None);
    let start = Instant::now();
    let mut answered = false;
    while start.elapsed() < Duration::from_secs(4) {
        if let Ok(res) = client()
            .get(format!("http://127.0.0.1:{b}/readyz"))
            .send()
            .await
        {
            answered = true;
            assert_eq!(res.status(), 503, "ready without trusting the certificate");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answered, "the second instance never answered at all");
}
