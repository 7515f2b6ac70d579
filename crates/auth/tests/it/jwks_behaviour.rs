//! The JWKS cache under load and under issuer failure.

use crate::controlled_issuer::{Mode, setup};
use portcullis_auth::Rejection;
use portcullis_auth::provider::Provider;
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A token whose header names `kid`, signed by a key the issuer never published (one key for
/// the whole test binary: RSA key generation is slow).
fn token_with_kid(issuer_url: &str, kid: &str) -> String {
    static STRANGER: std::sync::OnceLock<DevIssuer> = std::sync::OnceLock::new();
    let stranger = STRANGER.get_or_init(|| DevIssuer::ephemeral("https://stranger.test"));
    let mut claims = stranger.access_claims(&TokenSpec::default());
    claims.insert("iss".into(), json!(issuer_url));
    stranger.sign_raw(
        &json!({"alg": "RS256", "kid": kid}),
        &serde_json::Value::Object(claims),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_kid_flood_causes_at_most_one_fetch() {
    let s = setup().await;
    s.load().await;
    s.past_cooldown();
    let before = s.control.fetches();
    let url = s.control.issuer.issuer_url().to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..300 {
        let v = Arc::clone(&s.verifier);
        let token = token_with_kid(&url, &format!("made-up-{i}"));
        tasks.spawn(async move { v.verify(&token).await.map(|_| ()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.expect("task"), Err(Rejection::UnknownKid));
    }
    let extra = s.control.fetches() - before;
    assert!(extra <= 1, "300 unknown kids caused {extra} fetches");
    // And the same flood again within the cooldown causes none.
    let before = s.control.fetches();
    for i in 0..50 {
        let t = token_with_kid(&url, &format!("again-{i}"));
        assert_eq!(
            s.verifier.verify(&t).await.map(|_| ()),
            Err(Rejection::UnknownKid)
        );
    }
    assert_eq!(s.control.fetches(), before);
}

#[tokio::test]
async fn rotated_in_key_is_accepted_after_the_cooldown_without_restart() {
    let s = setup().await;
    s.load().await;
    let old = s.control.issuer.mint_access(&TokenSpec::default());
    s.control.issuer.rotate().expect("rotate");
    let new = s.control.issuer.mint_access(&TokenSpec::default());
    // Right after a fetch the cooldown holds: the new kid is not known yet.
    assert_eq!(
        s.verifier.verify(&new).await.map(|_| ()),
        Err(Rejection::UnknownKid)
    );
    s.past_cooldown();
    assert!(
        s.verifier.verify(&new).await.is_ok(),
        "new key picked up by a refetch"
    );
    assert!(
        s.verifier.verify(&old).await.is_ok(),
        "old key still published during the overlap"
    );
    s.control.issuer.retire_old_keys().expect("retire");
    s.past_cooldown();
    s.provider.keys().refresh().await.expect("refresh");
    assert_eq!(
        s.verifier.verify(&old).await.map(|_| ()),
        Err(Rejection::UnknownKid),
        "a cached verification is dropped once its key leaves the JWKS"
    );
}

#[tokio::test]
async fn failing_issuer_does_not_affect_known_kids() {
    let s = setup().await;
    s.load().await;
    let good = s.control.issuer.mint_access(&TokenSpec::default());
    s.control.set(Mode::Fail);
    s.past_cooldown();
    assert!(s.provider.keys().refresh().await.is_err());
    assert!(s.verifier.verify(&good).await.is_ok());
    let url = s.control.issuer.issuer_url().to_owned();
    s.past_cooldown();
    assert_eq!(
        s.verifier
            .verify(&token_with_kid(&url, "unknown"))
            .await
            .map(|_| ()),
        Err(Rejection::UnknownKid)
    );
    assert!(s.provider.keys().status().usable);
    assert!(
        s.verifier.verify(&good).await.is_ok(),
        "usable again once the issuer answers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hanging_issuer_never_stalls_known_kids() {
    let s = setup().await;
    s.load().await;
    let good = s.control.issuer.mint_access(&TokenSpec::default());
    s.control.set(Mode::Hang);
    s.past_cooldown();
    let keys = Arc::clone(&s.provider);
    let refresh = tokio::spawn(async move { keys.keys().refresh().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // While a fetch hangs, known kids answer at once (the bound is generous for slow machines).
    let known = tokio::time::timeout(Duration::from_millis(400), s.verifier.verify(&good)).await;
    assert!(
        matches!(known, Ok(Ok(_))),
        "known kid stalled or failed: {known:?}"
    );
    assert!(
        refresh.await.expect("join").is_err(),
        "the hanging fetch times out"
    );
    // An unknown kid during the outage is refused (401), bounded by the fetch timeout.
    let url = s.control.issuer.issuer_url().to_owned();
    s.past_cooldown();
    let unknown = tokio::time::timeout(
        Duration::from_secs(5),
        s.verifier.verify(&token_with_kid(&url, "unknown")),
    )
    .await
    .expect("bounded by the fetch timeout");
    assert_eq!(unknown.map(|_| ()), Err(Rejection::UnknownKid));
}

#[tokio::test]
async fn keys_older_than_the_maximum_staleness_fail_closed() {
    let s = setup().await;
    s.load().await;
    let good = s
        .control
        .issuer
        .mint_access(&TokenSpec::default().ttl(Duration::from_secs(24 * 3600)));
    s.control.set(Mode::Fail);
    let stale = s.cache_config.max_staleness + Duration::from_secs(1);
    s.clock
        .advance(chrono::Duration::from_std(stale).expect("duration"));
    assert!(!s.provider.keys().status().usable);
    assert_eq!(
        s.verifier.verify(&good).await.map(|_| ()),
        Err(Rejection::KeysUnavailable),
        "a valid token is refused once the keys are too old to trust"
    );
    s.control.set(Mode::Answer);
    s.past_cooldown();
    s.provider.keys().refresh().await.expect("issuer back");
    assert!(s.provider.keys().status().usable);
    assert!(
        s.verifier.verify(&good).await.is_ok(),
        "usable again once the issuer answers"
    );
}
