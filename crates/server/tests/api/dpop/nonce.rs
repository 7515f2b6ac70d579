//! Server nonces (RFC 9449 section 8): a proof without one gets `use_dpop_nonce` and a
//! `DPoP-Nonce` to retry with; a nonce from another server, or too old, is refused the same way.

use super::{app_with, assert_dpop_error, bound_token, me};
use crate::support::dpop::DpopKey;
use portcullis_auth::dpop::DpopMode;
use serde_json::json;
use std::time::Duration;

fn nonce_of(res: &reqwest::Response) -> String {
    res.headers()
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .expect("a DPoP-Nonce header")
        .to_owned()
}

#[tokio::test]
async fn a_proof_without_the_nonce_gets_one_and_the_retry_succeeds() {
    let app = app_with(DpopMode::Allowed, |c| {
        c.auth.dpop_nonce = true;
        c.auth.dpop_nonce_secs = 1;
    })
    .await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/me");
    let res = me(&app, &token, &key.proof("GET", &url, &token).sign()).await;
    assert_dpop_error(&res, "use_dpop_nonce");
    let nonce = nonce_of(&res);
    let retry = key
        .proof("GET", &url, &token)
        .claim("nonce", json!(nonce))
        .sign();
    assert_eq!(me(&app, &token, &retry).await.status(), 200);

    // A nonce another server made (another key) is no nonce here.
    let other = app_with(DpopMode::Allowed, |c| c.auth.dpop_nonce = true).await;
    let res = me(&other, &token, &key.proof("GET", &url, &token).sign()).await;
    let foreign = nonce_of(&res);
    let proof = key
        .proof("GET", &url, &token)
        .claim("nonce", json!(foreign))
        .sign();
    assert_dpop_error(&me(&app, &token, &proof).await, "use_dpop_nonce");
    for bad in [json!(""), json!("not-a-nonce"), json!(42)] {
        let proof = key
            .proof("GET", &url, &token)
            .claim("nonce", bad.clone())
            .sign();
        let res = me(&app, &token, &proof).await;
        assert_eq!(res.status(), 401, "{bad}");
    }

    // Nonces last two windows of `dpop_nonce_secs` (1 s here): past that, refused.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let stale = key
        .proof("GET", &url, &token)
        .claim("nonce", json!(nonce))
        .sign();
    let res = me(&app, &token, &stale).await;
    assert_dpop_error(&res, "use_dpop_nonce");
    let fresh = key
        .proof("GET", &url, &token)
        .claim("nonce", json!(nonce_of(&res)))
        .sign();
    assert_eq!(me(&app, &token, &fresh).await.status(), 200);
}
