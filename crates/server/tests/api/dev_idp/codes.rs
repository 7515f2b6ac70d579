//! Authorization requests and codes that must fail: PKCE mismatch, `plain`, no challenge,
//! a reused code (which also revokes what it produced), an expired code, a redirect URI that
//! differs, and a redirect URI or client that is not registered (an error page, never a
//! redirect).

use super::*;

#[tokio::test]
async fn a_pkce_mismatch_is_invalid_grant() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let code = code_for(&app, &mut browser, "dev-member", CLIENT, SPA, &p.challenge).await;
    let other = pkce();
    let answer = exchange(&app, &code, &other.verifier).await;
    assert_oauth_error(&answer, 400, "invalid_grant");
    let missing = post_form(
        &app,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", &code),
            ("redirect_uri", SPA),
        ],
        None,
    )
    .await;
    assert_oauth_error(&missing, 400, "invalid_request");
}

#[tokio::test]
async fn plain_or_no_challenge_is_refused_at_the_authorization_endpoint() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    for extra in [
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge_method", "")],
        vec![("code_challenge", "")],
        vec![("code_challenge", "too-short")],
    ] {
        let res = browser
            .get(&authorize_url(&app, CLIENT, SPA, &p.challenge, &extra))
            .await;
        assert_eq!(res.status(), 302, "{extra:?}");
        let back = location(&res);
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{extra:?}"
        );
        assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
        assert!(back.as_str().starts_with(SPA));
    }
    let res = browser
        .get(&authorize_url(
            &app,
            CLIENT,
            SPA,
            &p.challenge,
            &[("response_type", "token")],
        ))
        .await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("unsupported_response_type")
    );
    let res = browser
        .get(&authorize_url(
            &app,
            CLIENT,
            SPA,
            &p.challenge,
            &[("scope", "openid admin")],
        ))
        .await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("invalid_scope")
    );
    let res = browser
        .get(&authorize_url(
            &app,
            CLIENT,
            SPA,
            &p.challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_produced() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let code = code_for(&app, &mut browser, "dev-member", CLIENT, SPA, &p.challenge).await;
    let first = exchange(&app, &code, &p.verifier).await;
    assert_eq!(first.status, 200);
    let access = first.str("access_token");
    assert_eq!(me(&app, &access).await, 200);

    let again = exchange(&app, &code, &p.verifier).await;
    assert_oauth_error(&again, 400, "invalid_grant");
    assert_eq!(
        me(&app, &access).await,
        401,
        "the first exchange's tokens are revoked"
    );
    assert_oauth_error(
        &refresh(&app, &first.str("refresh_token")).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    // Lifetime 0: every code has expired by the time it is presented.
    let app = TestApp::sqlite()
        .dev_mode()
        .with_config(|c| c.dev.code_ttl_secs = 0)
        .start()
        .await;
    let mut browser = Browser::new();
    let p = pkce();
    let code = code_for(&app, &mut browser, "dev-member", CLIENT, SPA, &p.challenge).await;
    assert_oauth_error(
        &exchange(&app, &code, &p.verifier).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &exchange(&app, "not-a-code-at-all", &p.verifier).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn the_redirect_uri_must_be_the_authorization_requests() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let code = code_for(&app, &mut browser, "dev-member", CLIENT, SPA, &p.challenge).await;
    let answer = post_form(
        &app,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:5173/other"),
            ("code_verifier", &p.verifier),
        ],
        None,
    )
    .await;
    assert_oauth_error(&answer, 400, "invalid_grant");
}

#[tokio::test]
async fn an_unregistered_redirect_or_client_gets_a_page_and_no_redirect() {
    let app = TestApp::sqlite()
        .dev_mode()
        .with_config(|c| {
            c.dev.clients.push(portcullis::config::DevClient {
                client_id: "web".into(),
                redirect_uris: vec!["https://app.example.test/cb".into()],
                logout_uris: Vec::new(),
                client_secret: None,
                grant_types: vec!["authorization_code".into()],
            });
        })
        .start()
        .await;
    let p = pkce();
    let http = no_redirects();
    for (client_id, redirect) in [
        (CLIENT, "https://evil.example/cb"),
        (CLIENT, "http://127.0.0.1:5173/cb#fragment"),
        ("web", "https://app.example.test/cb/../evil"),
        ("web", "https://app.example.test/cb?extra=1"),
        ("web", "https://evil.example/cb"),
        ("nobody", SPA),
        ("", SPA),
    ] {
        let res = http
            .get(authorize_url(&app, client_id, redirect, &p.challenge, &[]))
            .send()
            .await
            .expect("authorize");
        assert_eq!(res.status(), 400, "{client_id} {redirect}");
        assert!(
            res.headers().get("location").is_none(),
            "{client_id} {redirect}"
        );
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/html"),
            "an error page"
        );
        // Not even an error code goes to the unverified URI.
        let html = res.text().await.expect("html");
        assert!(!html.contains("evil.example"), "the URI is not echoed");
    }
    // The registered one works.
    let res = http
        .get(authorize_url(
            &app,
            "web",
            "https://app.example.test/cb",
            &p.challenge,
            &[],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 200);
}
