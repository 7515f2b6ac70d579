//! The verified-token cache's bounds and its removal of chosen entries.

use crate::controlled_issuer::setup;
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::Provider;
use portcullis_auth::{CacheUse, Rejection, Verifier};
use portcullis_dev_issuer::TokenSpec;
use std::sync::Arc;

async fn used(v: &Verifier, token: &str) -> Result<CacheUse, Rejection> {
    v.verify_traced(token).await.map(|(_, used)| used)
}

#[tokio::test]
async fn the_entry_bound_holds_and_the_newest_entry_stays() {
    let s = setup().await;
    s.load().await;
    let verifier = Verifier::new(
        vec![Arc::clone(&s.provider) as Arc<dyn Provider>],
        Arc::new(s.clock.clone()),
        Policy {
            cache_capacity: 3,
            ..Policy::default()
        },
    )
    .expect("verifier");
    let tokens: Vec<String> = (0..6)
        .map(|i| {
            s.control
                .issuer
                .mint_access(&TokenSpec::new(format!("user-{i}")))
        })
        .collect();
    for t in &tokens {
        assert_eq!(used(&verifier, t).await, Ok(CacheUse::Miss));
    }
    let newest = &tokens[5];
    assert_eq!(used(&verifier, newest).await, Ok(CacheUse::Hit));
    let mut hits = 0;
    for t in &tokens[..5] {
        hits += usize::from(used(&verifier, t).await == Ok(CacheUse::Hit));
    }
    assert!(hits <= 2, "{hits} hits: more than 3 entries were kept");
}

#[tokio::test]
async fn forget_where_drops_the_chosen_entries_only() {
    let s = setup().await;
    s.load().await;
    let i = &s.control.issuer;
    let alice = [
        i.mint_access(&TokenSpec::new("alice")),
        i.mint_access(&TokenSpec::new("alice")),
    ];
    let bob = i.mint_access(&TokenSpec::new("bob"));
    for t in alice.iter().chain([&bob]) {
        assert_eq!(used(&s.verifier, t).await, Ok(CacheUse::Miss));
    }
    s.verifier.forget_where(|v| v.claims.sub == "alice");
    for t in &alice {
        assert_eq!(used(&s.verifier, t).await, Ok(CacheUse::Miss));
    }
    assert_eq!(used(&s.verifier, &bob).await, Ok(CacheUse::Hit));
}

#[tokio::test]
async fn a_hit_answers_the_claims_the_miss_did() {
    let s = setup().await;
    s.load().await;
    let t = s.control.issuer.mint_access(
        &TokenSpec::new("alice")
            .groups(["staff"])
            .origin_jti("session-1"),
    );
    let (miss, used) = s.verifier.verify_traced(&t).await.expect("valid");
    assert_eq!(used, CacheUse::Miss);
    let (hit, used) = s.verifier.verify_traced(&t).await.expect("valid");
    assert_eq!(used, CacheUse::Hit);
    assert_eq!(*hit, *miss);
    assert_eq!(hit.claims.origin_jti.as_deref(), Some("session-1"));
    assert!(hit.claims.jti.is_some());
}
