//! Revoking a persona's sessions from the faults endpoint goes through the server's own
//! user-level revocation ("revoked before now"), as `revoke-sessions` does.

use super::fault;
use crate::dev_idp::sign_in;
use crate::support::TestApp;
use serde_json::json;

#[tokio::test]
async fn revoking_a_persona_refuses_the_tokens_it_already_has() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    let member = app.bearer(&sign_in(&app, "dev-member").await.str("access_token"));
    let other = app.bearer(&sign_in(&app, "dev-admin").await.str("access_token"));
    assert_eq!(member.me().await, 200);
    assert_eq!(other.me().await, 200);

    let state = fault(
        &app,
        json!({"fault": "revoke-persona", "sub": "dev-member"}),
    )
    .await;
    assert!(
        state["events"][0]["what"]
            .as_str()
            .is_some_and(|w| w.contains("dev-member")),
        "{state}"
    );
    assert_eq!(member.me().await, 401, "the persona's token is revoked");
    assert_eq!(other.me().await, 200, "nobody else's");
}

#[tokio::test]
async fn revoking_a_sub_that_never_signed_in_is_404() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let res = app
        .client
        .post(app.url("/dev-issuer/faults"))
        .json(&json!({"fault": "revoke-persona", "sub": "nobody-here"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 404);
}
