//! Rotating the signing key and publishing a second key: the server takes up the new `kid`
//! on its own and keeps accepting tokens of the keys still published.

use super::{fault, published, reopened, rotate};
use crate::dev_idp::sign_in;
use crate::support::TestApp;
use portcullis_dev_issuer::TokenSpec;
use serde_json::json;

#[tokio::test]
async fn after_a_rotation_the_server_takes_up_the_new_kid() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    let before = app.caller("alice");
    assert_eq!(before.me().await, 200);
    let old_kid = app.issuer().current_kid();

    let state = fault(&app, rotate()).await;
    let new_kid = state["signing_kid"].as_str().expect("kid").to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(published(&app).await, [new_kid.clone(), old_kid.clone()]);
    assert!(
        state["events"][0]["what"]
            .as_str()
            .is_some_and(|w| w.contains(&new_kid)),
        "the rotation is in the log: {state}"
    );

    // The token endpoint signs with the new key, and the server takes its tokens.
    let token = sign_in(&app, "dev-member").await.str("access_token");
    assert_eq!(kid_of(&token), new_kid);
    assert_eq!(
        app.bearer(&token).me().await,
        200,
        "a token under the new kid is accepted"
    );
    let issuer = reopened(&app);
    assert_eq!(
        issuer.current_kid(),
        new_kid,
        "the rotation is kept in the key file"
    );
    assert_eq!(
        app.caller("bob").me().await,
        200,
        "the old key is still published, so its tokens still verify"
    );
}

#[tokio::test]
async fn a_second_key_is_published_without_signing_and_a_rotation_switches_to_it() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    let signing = app.issuer().current_kid();

    let state = fault(&app, json!({"fault": "publish-key"})).await;
    assert_eq!(
        state["signing_kid"],
        signing.as_str(),
        "still signing with the first key"
    );
    let kids = published(&app).await;
    assert_eq!(kids.len(), 2);
    let second = kids
        .iter()
        .find(|k| **k != signing)
        .expect("a second kid")
        .clone();

    let state = fault(&app, rotate()).await;
    assert_eq!(
        state["signing_kid"],
        second.as_str(),
        "the rotation moves to the key published ahead"
    );
    let issuer = reopened(&app);
    assert_eq!(issuer.current_kid(), second);
    let token = issuer.mint_access(&TokenSpec::new("carol").username("carol"));
    assert_eq!(app.bearer(&token).me().await, 200);
    assert_eq!(
        app.caller("dave").me().await,
        200,
        "the first key still verifies"
    );
}

#[tokio::test]
async fn a_token_under_a_kid_that_was_never_published_is_refused() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    fault(&app, json!({"fault": "publish-key"})).await;
    // Signed by the current key but naming a kid that is in no JWKS.
    let claims = app.issuer().access_claims(&TokenSpec::new("eve"));
    let token = app.issuer().sign_raw(
        &json!({"alg": "RS256", "kid": "never-published"}),
        &serde_json::Value::Object(claims),
    );
    assert_eq!(app.bearer(&token).me().await, 401);
}

fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().expect("header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url");
    let header: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    header["kid"].as_str().expect("kid").to_owned()
}
