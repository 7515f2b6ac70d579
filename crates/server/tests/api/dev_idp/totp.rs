//! TOTP step-up: a request whose `acr_values` ask for MFA makes a persona with an
//! authenticator enter its code (RFC 6238, one step of drift either way, each code once); the
//! tokens then carry the `amr` the server's MFA check reads, and an MFA-protected route that
//! refused the password-only token takes them.

use super::*;
use crate::support::problem::challenge;
use portcullis_dev_issuer::totp;
use std::time::{SystemTime, UNIX_EPOCH};

fn secret() -> Vec<u8> {
    totp::decode_secret(portcullis::config::DEFAULT_TOTP_SECRET).expect("base32")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The code `offset` steps from now. Waits out the last seconds of a step first, so the
/// server checks in the same step the test computed in.
async fn code(offset: i64) -> String {
    while unix_now().rem_euclid(totp::STEP_SECS) > totp::STEP_SECS - 4 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    totp::format_code(totp::code_at(&secret(), totp::step_of(unix_now()) + offset))
}

async fn mfa_app() -> TestApp {
    TestApp::sqlite()
        .dev_mode()
        .with_config(|c| {
            c.mfa.routes = vec!["/v1/me".into()];
            c.mfa.acr_values = vec!["mfa".into()];
        })
        .start()
        .await
}

/// Opens an MFA request, picks `persona`; the browser and the request id at the code prompt.
async fn at_prompt(app: &TestApp, persona: &str, p: &Pkce) -> (Browser, String) {
    let mut browser = Browser::new();
    let id = open_page(
        &mut browser,
        &authorize_url(app, CLIENT, SPA, &p.challenge, &[("acr_values", "mfa")]),
    )
    .await;
    let res = browser
        .post(
            &idp(app, "/oauth2/authorize"),
            &[("request", &id), ("persona", persona)],
        )
        .await;
    assert_eq!(res.status(), 200, "the code prompt");
    let html = res.text().await.expect("html");
    assert!(html.contains("name=\"totp\""), "{html}");
    assert!(html.contains("autocomplete=\"one-time-code\""));
    (browser, request_id(&html))
}

async fn submit(app: &TestApp, browser: &mut Browser, id: &str, code: &str) -> reqwest::Response {
    browser
        .post(
            &idp(app, "/oauth2/authorize"),
            &[("request", id), ("totp", code)],
        )
        .await
}

#[tokio::test]
async fn an_mfa_request_makes_the_persona_pass_its_code_and_the_route_takes_the_token() {
    let app = mfa_app().await;
    // Signed in without MFA: the protected route challenges, naming what to ask for.
    let plain = sign_in(&app, "dev-mfa").await;
    let res = app
        .bearer(&plain.str("access_token"))
        .get("/v1/me")
        .send()
        .await;
    assert_eq!(res.status(), 401);
    let want = challenge(&res).expect("a challenge");
    assert!(want.contains("insufficient_user_authentication"), "{want}");
    assert!(want.contains("acr_values=\"mfa\""), "{want}");

    let p = pkce();
    let (mut browser, id) = at_prompt(&app, "dev-mfa", &p).await;
    let wrong = submit(&app, &mut browser, &id, "000000").await;
    assert_eq!(wrong.status(), 400, "a wrong code stays on the prompt");
    assert!(wrong.headers().get("location").is_none());
    let right = submit(&app, &mut browser, &id, &code(0).await).await;
    assert_eq!(right.status(), 303);
    let back = location(&right);
    let code = param(&back, "code").expect("code");
    let tokens = exchange(&app, &code, &p.verifier).await;
    let access = tokens.str("access_token");
    assert_eq!(
        claims(&access)["amr"],
        serde_json::json!(["pwd", "mfa", "otp"])
    );
    assert_eq!(claims(&tokens.str("id_token"))["acr"], "mfa");
    assert_eq!(me(&app, &access).await, 200, "the step-up is satisfied");
    // Refreshing keeps the proof of that sign-in.
    let refreshed = refresh(&app, &tokens.str("refresh_token")).await;
    assert_eq!(me(&app, &refreshed.str("access_token")).await, 200);
}

#[tokio::test]
async fn one_step_of_drift_either_way_is_accepted_two_are_not_and_no_code_twice() {
    let app = mfa_app().await;
    let p = pkce();
    let (mut browser, id) = at_prompt(&app, "dev-mfa", &p).await;
    for offset in [-2, 2] {
        let res = submit(&app, &mut browser, &id, &code(offset).await).await;
        assert_eq!(res.status(), 400, "{offset} steps away");
    }
    // Accepted in increasing order: each code's step is later than the last one used.
    let mut used = Vec::new();
    for offset in [-1, 0, 1] {
        let p = pkce();
        let (mut browser, id) = at_prompt(&app, "dev-mfa", &p).await;
        let c = code(offset).await;
        let res = submit(&app, &mut browser, &id, &c).await;
        assert_eq!(res.status(), 303, "{offset} steps away");
        used.push(c);
    }
    let p = pkce();
    let (mut browser, id) = at_prompt(&app, "dev-mfa", &p).await;
    let replay = submit(&app, &mut browser, &id, &used[2]).await;
    assert_eq!(replay.status(), 400, "a code is accepted once");
}

#[tokio::test]
async fn too_many_wrong_codes_end_the_request() {
    let app = mfa_app().await;
    let p = pkce();
    let (mut browser, id) = at_prompt(&app, "dev-mfa", &p).await;
    for _ in 0..5 {
        assert_eq!(
            submit(&app, &mut browser, &id, "123456").await.status(),
            400
        );
    }
    let after = submit(&app, &mut browser, &id, &code(0).await).await;
    assert_eq!(after.status(), 400, "the request is gone");
    assert!(after.headers().get("location").is_none());
}

#[tokio::test]
async fn a_persona_without_an_authenticator_cannot_answer_an_mfa_request() {
    let app = mfa_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let id = open_page(
        &mut browser,
        &authorize_url(&app, CLIENT, SPA, &p.challenge, &[("acr_values", "mfa")]),
    )
    .await;
    let res = browser
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[("request", &id), ("persona", "dev-member")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    // Without acr_values, dev-mfa signs in with its password alone.
    let plain = sign_in(&app, "dev-mfa").await;
    assert_eq!(
        claims(&plain.str("access_token"))["amr"],
        serde_json::json!(["pwd"])
    );
}
