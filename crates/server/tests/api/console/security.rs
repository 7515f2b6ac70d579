//! Session security: cookie attributes, CSP on every response, CSRF token and `Origin` on
//! every form, the sign-in's state bound to the browser, and sessions ended by a disable or a
//! revocation on the next request.

use super::browser::Browser;
use super::{app, persona, signed_in};
use crate::support::TestApp;
use reqwest::Method;

fn assert_csp(page: &super::browser::Page) {
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{} {}: CSP {csp:?}",
        page.status,
        page.url
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(
        page.header("x-content-type-options"),
        "nosniff",
        "{}",
        page.url
    );
}

#[tokio::test]
async fn the_session_cookie_is_httponly_lax_and_host_only() {
    let app = app().await;
    let b = Browser::new(&app);
    let start = b.get("/console/login").await;
    assert_eq!(start.status, 303, "{}", start.body);
    let login_cookie = start.set_cookies().join("\n");
    // Loopback over plain http: `__Host-` needs Secure, which needs https, so the plain name.
    assert!(
        login_cookie.starts_with("portcullis_console_login="),
        "{login_cookie}"
    );
    let page = b.sign_in("dev-admin").await;
    assert_eq!(page.status, 200);
    let sid = b.cookie("portcullis_console").expect("session cookie");
    assert!(sid.len() >= 43, "a 256-bit random id: {sid}");

    // The callback's Set-Cookie, seen directly.
    let b2 = Browser::new(&app);
    let signin = b2.open("/console").await;
    let request = signin.input("request").expect("request");
    let action = signin.form_action().expect("action");
    let back = b2
        .send(
            Method::POST,
            &action,
            Some(&[("request", request.as_str()), ("persona", "dev-admin")]),
            Some(&b2.base.clone()),
        )
        .await;
    let callback = b2.get(&back.location().expect("back to the console")).await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    let set = callback.set_cookies();
    let session = set
        .iter()
        .find(|c| c.starts_with("portcullis_console="))
        .expect("session cookie set");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    assert!(!session.contains("Domain="), "host-only: {session}");
    assert!(
        !session.contains("Max-Age"),
        "ends with the browser or the token: {session}"
    );
    assert_csp(&callback);
}

#[tokio::test]
async fn over_https_the_cookies_are_secure_with_the_host_prefix() {
    let app = TestApp::sqlite()
        .dev_mode()
        .with_config(|c| {
            c.console.redirect_uri = Some("https://console.example.com/console/callback".into());
        })
        .start()
        .await;
    let start = Browser::new(&app).get("/console/login").await;
    assert_eq!(start.status, 303);
    let cookie = start.set_cookies().join("\n");
    assert!(
        cookie.starts_with("__Host-portcullis_console_login=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain="),
        "{cookie}"
    );
    let to = start.location().expect("to the issuer");
    assert!(
        to.contains("code_challenge_method=S256") && to.contains("code_challenge="),
        "{to}"
    );
    assert!(
        !to.contains("code_verifier"),
        "the verifier stays on the server: {to}"
    );
}

#[tokio::test]
async fn every_console_response_has_the_csp() {
    let app = app().await;
    let anon = Browser::new(&app);
    for path in [
        "/console",
        "/console/audit",
        "/console/login",
        "/console/nope",
        "/console/assets/console.css",
    ] {
        assert_csp(&anon.get(path).await);
    }
    assert_csp(&anon.get("/console/callback?code=x&state=y").await);
    let b = signed_in(&app, "dev-admin").await;
    let acme = super::acme(&app).await;
    for path in [
        "/console".to_owned(),
        "/console/audit".into(),
        "/console/users".into(),
        "/console/orgs".into(),
        format!("/console/orgs/{acme}/members"),
        "/console/flags".into(),
        "/console/health".into(),
        "/console/audit/export?format=csv".into(),
        "/console/orgs/00000000-0000-7000-8000-000000000000/members".into(),
        "/console/no-such-page".into(),
    ] {
        let page = b.get(&path).await;
        assert_ne!(page.status, 500, "{path}");
        assert_csp(&page);
    }
    let refused = b
        .send(
            Method::POST,
            "/console/logout",
            Some(&[("csrf", "wrong")]),
            Some(&b.base.clone()),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_csp(&refused);
}

#[tokio::test]
async fn a_form_without_the_csrf_token_or_from_another_origin_is_refused() {
    let app = app().await;
    let b = signed_in(&app, "dev-admin").await;
    let target = persona(&app, "dev-member");
    let id = target.id().await;
    let page = b.open(&format!("/console/users/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf").expect("csrf field");
    let path = format!("/console/users/{id}/revoke-sessions");
    let own = b.base.clone();

    let none = b.send(Method::POST, &path, Some(&[]), Some(&own)).await;
    assert_eq!(none.status, 403, "no CSRF token");
    let wrong = b
        .send(Method::POST, &path, Some(&[("csrf", "x")]), Some(&own))
        .await;
    assert_eq!(wrong.status, 403, "a wrong CSRF token");
    let foreign = b
        .send(
            Method::POST,
            &path,
            Some(&[("csrf", &csrf)]),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status, 403, "a foreign Origin");
    let no_origin = b
        .send(Method::POST, &path, Some(&[("csrf", &csrf)]), None)
        .await;
    assert_eq!(no_origin.status, 403, "no Origin");
    // Another session's token does not work either.
    let other = signed_in(&app, "dev-admin").await;
    let other_csrf = other
        .open("/console/users")
        .await
        .input("csrf")
        .expect("csrf");
    let crossed = b
        .send(
            Method::POST,
            &path,
            Some(&[("csrf", &other_csrf)]),
            Some(&own),
        )
        .await;
    assert_eq!(crossed.status, 403, "another session's CSRF token");
    assert_eq!(
        target.me().await,
        200,
        "nothing was revoked by the refused posts"
    );

    let done = b.submit(&path, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("revoked"), "{}", done.body);
}

#[tokio::test]
async fn a_callback_needs_the_state_of_a_login_started_in_this_browser() {
    let app = app().await;
    let b = Browser::new(&app);
    let signin = b.open("/console").await;
    let request = signin.input("request").expect("request");
    let action = signin.form_action().expect("action");
    let back = b
        .send(
            Method::POST,
            &action,
            Some(&[("request", request.as_str()), ("persona", "dev-admin")]),
            Some(&b.base.clone()),
        )
        .await;
    let callback = back.location().expect("callback URL");

    // Another browser (no login cookie) presenting this callback: refused.
    let thief = Browser::new(&app);
    assert_eq!(thief.get(&callback).await.status, 400);
    // A forged state: refused.
    let forged = callback.replace("state=", "state=x");
    assert_eq!(b.get(&forged).await.status, 400);
    // The stolen attempt consumed the login: even the right browser cannot finish it now.
    assert_eq!(b.get(&callback).await.status, 400);
    assert!(b.cookie("portcullis_console").is_none());
    // An error from the issuer: refused, no session.
    assert_eq!(
        b.get("/console/callback?error=access_denied&state=x")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn the_session_ends_when_its_user_is_disabled() {
    let app = app().await;
    let b = signed_in(&app, "ops").await;
    let ops = persona(&app, "ops").id().await;
    app.admin("root")
        .post(&format!("/v1/admin/users/{ops}/disable"))
        .expect(200)
        .await;
    let page = b.get("/console/orgs").await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert!(page.body.contains("session has ended"));
    assert!(
        b.cookie("portcullis_console").is_none(),
        "the cookie is cleared"
    );
    // And the session is gone on the server: even the old cookie value gets nowhere now.
    app.admin("root")
        .post(&format!("/v1/admin/users/{ops}/enable"))
        .expect(200)
        .await;
    assert_eq!(b.get("/console/orgs").await.status, 303, "to the sign-in");
}

#[tokio::test]
async fn the_session_ends_when_its_sessions_are_revoked() {
    let app = app().await;
    let b = signed_in(&app, "ops").await;
    let sid = b.cookie("portcullis_console").expect("session");
    let ops = persona(&app, "ops").id().await;
    app.admin("root")
        .post(&format!("/v1/admin/users/{ops}/revoke-sessions"))
        .expect(204)
        .await;
    let page = b.get("/console").await;
    assert_eq!(page.status, 401, "{}", page.body);
    b.set_cookie("portcullis_console", &sid);
    assert_eq!(
        b.get("/console").await.status,
        303,
        "the old id names no session"
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_here_in_the_api_and_at_the_issuer() {
    let app = app().await;
    let b = signed_in(&app, "dev-admin").await;
    let sid = b.cookie("portcullis_console").expect("session");
    let csrf = b.open("/console").await.input("csrf").expect("csrf");
    let own = b.base.clone();
    let out = b
        .send(
            Method::POST,
            "/console/logout",
            Some(&[("csrf", &csrf)]),
            Some(&own),
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    let to = out.location().expect("to the issuer's logout");
    assert!(
        to.contains("/dev-issuer/logout") && to.contains("logout_uri="),
        "{to}"
    );
    assert!(b.cookie("portcullis_console").is_none());
    b.set_cookie("portcullis_console", &sid);
    assert_eq!(b.get("/console").await.status, 303, "the session is gone");
}
