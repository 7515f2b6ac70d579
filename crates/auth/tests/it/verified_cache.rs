//! The verified-token cache: what it answers, for how long, and what an entry shares with the
//! other tokens of its issuer and user.

use crate::controlled_issuer::{Setup, setup};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::Provider;
use portcullis_auth::{CacheUse, Rejection, Verifier};
use portcullis_dev_issuer::TokenSpec;
use std::sync::Arc;
use std::time::Duration;

async fn loaded() -> Setup {
    let s = setup().await;
    s.load().await;
    s
}

async fn used(v: &Verifier, token: &str) -> Result<CacheUse, Rejection> {
    v.verify_traced(token).await.map(|(_, used)| used)
}

#[tokio::test]
async fn a_verification_is_reused_only_until_the_cache_ttl() {
    let s = loaded().await;
    let t = s.control.issuer.mint_access(&TokenSpec::new("alice"));
    assert_eq!(used(&s.verifier, &t).await, Ok(CacheUse::Miss));
    assert_eq!(used(&s.verifier, &t).await, Ok(CacheUse::Hit));
    let ttl = Policy::default().cache_ttl + Duration::from_secs(1);
    s.clock
        .advance(chrono::Duration::from_std(ttl).expect("duration"));
    assert_eq!(
        used(&s.verifier, &t).await,
        Ok(CacheUse::Miss),
        "past the cap the signature is checked again"
    );
    assert_eq!(used(&s.verifier, &t).await, Ok(CacheUse::Hit));
}

#[tokio::test]
async fn a_cached_token_is_refused_once_expired() {
    let s = loaded().await;
    let t = s
        .control
        .issuer
        .mint_access(&TokenSpec::new("alice").ttl(Duration::from_secs(60)));
    assert_eq!(used(&s.verifier, &t).await, Ok(CacheUse::Miss));
    assert_eq!(used(&s.verifier, &t).await, Ok(CacheUse::Hit));
    // exp plus the 30 s leeway.
    s.clock.advance(chrono::Duration::seconds(91));
    assert_eq!(used(&s.verifier, &t).await, Err(Rejection::Expired));
}

#[tokio::test]
async fn tokens_of_one_user_share_their_repeated_strings() {
    let s = loaded().await;
    let i = &s.control.issuer;
    let a = s
        .verifier
        .verify(&i.mint_access(&TokenSpec::new("alice").groups(["staff"])))
        .await
        .expect("valid");
    let b = s
        .verifier
        .verify(&i.mint_access(&TokenSpec::new("alice").groups(["staff"])))
        .await
        .expect("valid");
    assert_ne!(a.claims.jti, b.claims.jti, "two tokens");
    let same = |x: &str, y: &str| std::ptr::eq(x.as_ptr(), y.as_ptr());
    assert!(same(&a.claims.iss, &b.claims.iss));
    assert!(same(&a.claims.sub, &b.claims.sub));
    assert!(same(&a.kid, &b.kid));
    assert!(same(&a.groups[0], &b.groups[0]));
    assert!(same(&a.claims.scopes[0], &b.claims.scopes[0]));
    assert_eq!(a.claims.iss, i.issuer_url());
}

#[tokio::test]
async fn a_zero_budget_turns_the_cache_off() {
    let s = loaded().await;
    let verifier = Verifier::new(
        vec![Arc::clone(&s.provider) as Arc<dyn Provider>],
        Arc::new(s.clock.clone()),
        Policy {
            cache_max_bytes: 0,
            ..Policy::default()
        },
    )
    .expect("verifier");
    let t = s.control.issuer.mint_access(&TokenSpec::new("alice"));
    for _ in 0..3 {
        assert_eq!(used(&verifier, &t).await, Ok(CacheUse::Miss));
    }
}
