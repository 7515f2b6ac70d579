//! Two instances behind one public URL, on one PostgreSQL and one Redis: a proof accepted by
//! one is a replay on the other, and a nonce from one is good on the other.

use super::assert_dpop_error;
use crate::support::dpop::DpopKey;
use crate::support::{TestApp, postgres_admin_url, redis_url};
use portcullis_auth::dpop::DpopMode;
use portcullis_dev_issuer::TokenSpec;
use serde_json::json;

/// What both instances are to their clients (a load balancer's name, not either address).
const PUBLIC: &str = "http://api.portcullis.test";

async fn send(app: &TestApp, token: &str, proof: &str) -> reqwest::Response {
    app.anonymous()
        .get("/v1/me")
        .header("authorization", &format!("DPoP {token}"))
        .header("dpop", proof)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proof_is_accepted_once_across_instances() {
    let (Some(pg), Some(redis)) = (postgres_admin_url(), redis_url()) else {
        return;
    };
    let c = TestApp::postgres(&pg)
        .with_redis(&redis)
        .with_config(|c| {
            c.auth.dpop = DpopMode::Allowed;
            c.auth.dpop_nonce = true;
            c.resource = Some(PUBLIC.into());
        })
        .start_cluster()
        .await;
    let key = DpopKey::generate();
    let token = c.a.issuer().mint_access(
        &TokenSpec::new("alice")
            .username("alice")
            .dpop_bound(key.jkt()),
    );
    let url = format!("{PUBLIC}/v1/me");
    // The nonce instance a hands out is good on b (both derive it from the cluster secret).
    let res = send(&c.a, &token, &key.proof("GET", &url, &token).sign()).await;
    assert_dpop_error(&res, "use_dpop_nonce");
    let nonce = res
        .headers()
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .expect("nonce")
        .to_owned();
    let proof = key
        .proof("GET", &url, &token)
        .claim("nonce", json!(nonce))
        .sign();
    assert_eq!(send(&c.b, &token, &proof).await.status(), 200);
    // The same proof on the other instance, and on the same one: replays.
    assert_dpop_error(&send(&c.a, &token, &proof).await, "invalid_dpop_proof");
    assert_dpop_error(&send(&c.b, &token, &proof).await, "invalid_dpop_proof");
    // The listen address is not the public URL: a proof naming it is refused.
    let direct = key
        .proof("GET", &c.a.url("/v1/me"), &token)
        .claim("nonce", json!(nonce))
        .sign();
    assert_dpop_error(&send(&c.a, &token, &direct).await, "invalid_dpop_proof");
    // A fresh proof works on either.
    let fresh = key
        .proof("GET", &url, &token)
        .claim("nonce", json!(nonce))
        .sign();
    assert_eq!(send(&c.a, &token, &fresh).await.status(), 200);
}
