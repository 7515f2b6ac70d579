//! What the instances of a cluster trust each other with, attacked from outside: a key-set copy
//! or a pub/sub message written straight into Redis counts only with the cluster key's tag
//! (once, and with a known resource action), and every refusal is counted. Also: revocations
//! last as long as the tokens they name are accepted, a logout-all cutoff allows for an issuer
//! clock running ahead, and a revoked token writes nothing and spends no rate limit.

mod forged_events;
mod forged_key_sets;
mod revocations;

use crate::support::TestApp;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// A secret of another deployment: what it tags, this cluster must refuse.
const OTHER_SECRET: &[u8] = b"a secret of some other deployment, long enough";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `portcullis_cluster_rejected_total{kind}` as `app` renders it (0 before the first one).
async fn rejected(app: &TestApp, kind: &str) -> u64 {
    let text = app.scrape().await;
    let series = format!("portcullis_cluster_rejected_total{{kind=\"{kind}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .map_or(0, |v| v.trim().parse::<f64>().expect("a number") as u64)
}

/// Runs `redis-cli -u {url} {args}`, as an operator (or an intruder) with access to Redis
/// would, and returns its output.
fn redis_cli(url: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
