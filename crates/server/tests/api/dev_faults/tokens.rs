//! Broken tokens on request: the next tokens the issuer's token endpoint hands out are expired,
//! not yet valid or for another app, and the server refuses each with 401; the fault runs out
//! after N token responses.

use super::fault;
use crate::dev_idp::sign_in;
use crate::support::TestApp;
use serde_json::json;

#[tokio::test]
async fn each_broken_token_is_refused_and_the_fault_runs_out() {
    let app = TestApp::sqlite().dev_mode().start().await;
    app.wait_ready().await;
    for kind in ["expired", "not-yet-valid", "wrong-audience"] {
        let state = fault(&app, json!({"fault": "tokens", "kind": kind, "count": 2})).await;
        assert_eq!(state["tokens"], json!({"kind": kind, "remaining": 2}));
        for _ in 0..2 {
            let token = sign_in(&app, "dev-member").await.str("access_token");
            let res = app.bearer(&token).get("/v1/me").send().await;
            assert_eq!(res.status().as_u16(), 401, "{kind}");
            let challenge = res.headers()["www-authenticate"]
                .to_str()
                .expect("header")
                .to_owned();
            assert!(challenge.contains("invalid_token"), "{kind}: {challenge}");
        }
        let token = sign_in(&app, "dev-member").await.str("access_token");
        assert_eq!(
            app.bearer(&token).me().await,
            200,
            "after {kind}, tokens are whole again"
        );
    }
}
