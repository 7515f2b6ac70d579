//! With Redis, instances share one copy of an issuer's keys: two instances starting against
//! the same issuer make one JWKS fetch between them, and both verify its tokens.

use crate::support::{TestApp, redis_url};
use portcullis_dev_issuer::{ControlledIssuer, TokenSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_make_one_jwks_fetch_through_redis() {
    let Some(redis) = redis_url() else {
        return;
    };
    let idp = ControlledIssuer::start().await.expect("issuer");
    let c = TestApp::sqlite()
        .cognito(&idp.issuer)
        .with_redis(&redis)
        .start_cluster()
        .await;
    assert_eq!(
        idp.fetches(),
        1,
        "the second instance used the first one's copy"
    );
    let token = idp.issuer.mint_access(&TokenSpec::new("alice"));
    for app in [&c.a, &c.b] {
        assert_eq!(app.bearer(&token).me().await, 200);
    }
}
