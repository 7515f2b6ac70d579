//! With Redis, instances share one copy of an issuer's keys: two instances starting against
//! the same issuer make one JWKS fetch between them, and both verify its tokens.

use crate::helpers::{
    client, issuer_and_redis_config, redis_prefix, redis_url, spawn_with, wait_ready,
};
use portcullis_dev_issuer::{ControlledIssuer, TokenSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_make_one_jwks_fetch_through_redis() {
    let Some(redis) = redis_url() else {
        return;
    };
    let idp = ControlledIssuer::start().await.expect("issuer");
    let dir = tempfile::tempdir().expect("dir");
    let config = issuer_and_redis_config(dir.path(), idp.issuer_url(), &redis, &redis_prefix());
    let a = spawn_with(&config).await;
    wait_ready(&a).await;
    let b = spawn_with(&config).await;
    wait_ready(&b).await;
    assert_eq!(
        idp.fetches(),
        1,
        "the second instance used the first one's copy"
    );
    let token = idp.issuer.mint_access(&TokenSpec::new("alice"));
    for app in [&a, &b] {
        let res = client()
            .get(app.url("/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
    }
}
