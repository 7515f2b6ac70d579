//! Copies of an issuer's key set written straight into Redis: untagged, or tagged with another
//! deployment's secret, they are refused (and counted), and the issuer's own keys still work.

use super::{OTHER_SECRET, now_ms, redis_cli, rejected};
use crate::support::cluster::Cluster;
use crate::support::{TestApp, redis_url};
use portcullis::cluster::key::{ClusterKey, Purpose};
use portcullis_dev_issuer::{ControlledIssuer, DevIssuer, TokenSpec};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_key_set_copies_in_redis_are_refused_and_counted() {
    let Some(redis) = redis_url() else {
        return;
    };
    let idp = ControlledIssuer::start().await.expect("issuer");
    let Cluster { a, b } = TestApp::sqlite()
        .cognito(&idp.issuer)
        .with_redis(&redis)
        .start_cluster()
        .await;
    let prefix = &a.config().redis_prefix;
    let started = tokio::time::Instant::now();

    // A key the issuer never published, under the issuer's name, next to its real keys.
    let attacker = DevIssuer::ephemeral(idp.issuer_url());
    let forged_token = attacker.mint_access(&TokenSpec::new("mallory"));
    let real_token = idp.issuer.mint_access(&TokenSpec::new("alice"));
    let mut keys = idp.issuer.jwks()["keys"].as_array().expect("keys").clone();
    keys.extend(attacker.jwks()["keys"].as_array().expect("keys").clone());
    let document = json!({ "keys": keys }).to_string();
    let copy_key = format!("{prefix}:jwks:{}", idp.issuer_url());
    let far_future = now_ms() + 10 * 365 * 24 * 3600 * 1000;

    // Each instance fetched at start; an unknown kid makes it look again only after the 10 s
    // refetch cooldown, and that look is what must not trust Redis.
    tokio::time::sleep_until(started + Duration::from_secs(11)).await;

    let untagged = json!({ "fetched_at_ms": far_future, "document": document }).to_string();
    let before = rejected(&a, "jwks_malformed").await;
    redis_cli(&redis, &["SET", &copy_key, &untagged, "PX", "600000"]);
    assert_eq!(
        a.bearer(&forged_token).me().await,
        401,
        "a key found only in an untagged copy"
    );
    assert!(rejected(&a, "jwks_malformed").await > before, "counted");

    // Dated now, so that only the tag can tell it from a genuine copy.
    let fetched_at_ms = now_ms();
    let mac = ClusterKey::new(OTHER_SECRET).sign(
        Purpose::KeySet,
        &[
            idp.issuer_url().as_bytes(),
            &fetched_at_ms.to_be_bytes(),
            document.as_bytes(),
        ],
    );
    let wrong_tag =
        json!({ "fetched_at_ms": fetched_at_ms, "document": document, "mac": mac }).to_string();
    let before = rejected(&b, "jwks_bad_mac").await;
    redis_cli(&redis, &["SET", &copy_key, &wrong_tag, "PX", "600000"]);
    assert_eq!(
        b.bearer(&forged_token).me().await,
        401,
        "a key found only in a copy tagged with another secret"
    );
    assert!(rejected(&b, "jwks_bad_mac").await > before, "counted");

    for app in [&a, &b] {
        assert_eq!(app.bearer(&forged_token).me().await, 401);
        assert_eq!(
            app.bearer(&real_token).me().await,
            200,
            "the issuer's keys still work"
        );
    }
}
