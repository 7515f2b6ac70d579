//! Broken tokens on request: the next tokens the issuer mints are expired, not yet valid or
//! for another app, and the server refuses each with 401; the fault runs out after N tokens.

use crate::support::TestApp;
use portcullis_dev_issuer::{TokenFault, TokenSpec};

#[tokio::test]
async fn each_broken_token_is_refused_and_the_fault_runs_out() {
    let app = TestApp::sqlite().start().await;
    app.wait_ready().await;
    let issuer = app.issuer();
    for fault in [
        TokenFault::Expired,
        TokenFault::NotYetValid,
        TokenFault::WrongAudience,
    ] {
        issuer.faults().break_next_tokens(fault, 2);
        for _ in 0..2 {
            let token = issuer.mint_access(&TokenSpec::new("alice"));
            let res = app.bearer(&token).get("/v1/me").send().await;
            assert_eq!(res.status().as_u16(), 401, "{fault}");
            let challenge = res.headers()["www-authenticate"]
                .to_str()
                .expect("header")
                .to_owned();
            assert!(challenge.contains("invalid_token"), "{fault}: {challenge}");
        }
        let token = issuer.mint_access(&TokenSpec::new("alice"));
        assert_eq!(
            app.bearer(&token).me().await,
            200,
            "after {fault}, tokens are whole again"
        );
    }
}
