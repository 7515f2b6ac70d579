//! The faults page and endpoint themselves: strict CSP, CSRF protection of the forms, refusal
//! of other origins and of malformed requests, and absence outside the dev issuer.

use crate::support::TestApp;
use portcullis::config::AuthProvider;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The page's CSRF cookie and the token its forms carry.
async fn csrf(app: &TestApp) -> (String, String) {
    let res = no_redirects()
        .get(app.url("/dev-issuer/faults"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    let cookie = res.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let html = res.text().await.expect("body");
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_owned();
    (pair, token)
}

async fn post_form(app: &TestApp, cookie: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = no_redirects()
        .post(app.url("/dev-issuer/faults"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        req = req.header(COOKIE, cookie);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn a_form_applies_a_fault_only_with_the_pages_csrf_token() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let (cookie, token) = csrf(&app).await;
    let form = format!("csrf={token}&fault=tokens&kind=expired&count=2");

    assert_eq!(
        post_form(&app, None, &form).await.status().as_u16(),
        403,
        "no cookie"
    );
    let (_, other_token) = csrf(&app).await;
    let forged = format!("csrf={other_token}&fault=tokens&kind=expired&count=2");
    assert_eq!(
        post_form(&app, Some(&cookie), &forged)
            .await
            .status()
            .as_u16(),
        403,
        "another token"
    );
    let missing = "fault=tokens&kind=expired&count=2";
    assert_eq!(
        post_form(&app, Some(&cookie), missing)
            .await
            .status()
            .as_u16(),
        403,
        "no token"
    );
    assert!(
        super::state(&app).await["tokens"].is_null(),
        "nothing applied so far"
    );

    let res = post_form(&app, Some(&cookie), &form).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()[LOCATION], "/dev-issuer/faults");
    let state = super::state(&app).await;
    assert_eq!(state["tokens"], json!({"kind": "expired", "remaining": 2}));
}

#[tokio::test]
async fn a_request_from_another_origin_is_refused_even_as_json() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let res = app
        .client
        .post(app.url("/dev-issuer/faults"))
        .header("origin", "http://evil.example")
        .json(&json!({"fault": "rotate-key"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 403);
    let same = app
        .client
        .post(app.url("/dev-issuer/faults"))
        .header("origin", format!("http://{}", app.addr()))
        .json(&json!({"fault": "clear"}))
        .send()
        .await
        .expect("request");
    assert_eq!(same.status().as_u16(), 200);
}

#[tokio::test]
async fn malformed_fault_requests_are_clear_4xx() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let post = |body: &'static str, media: &'static str| {
        app.client
            .post(app.url("/dev-issuer/faults"))
            .header(CONTENT_TYPE, media)
            .body(body)
            .send()
    };
    assert_eq!(
        post("fault=clear", "text/plain")
            .await
            .expect("r")
            .status()
            .as_u16(),
        415
    );
    assert_eq!(
        post("{", "application/json")
            .await
            .expect("r")
            .status()
            .as_u16(),
        400
    );
    for (body, pointer) in [
        (r#"{"fault": "explode"}"#, "/fault"),
        (
            r#"{"fault": "tokens", "kind": "expired", "count": 0}"#,
            "/count",
        ),
        (
            r#"{"fault": "tokens", "kind": "stale", "count": 1}"#,
            "/kind",
        ),
        (
            r#"{"fault": "jwks", "kind": "hang", "seconds": 99999}"#,
            "/seconds",
        ),
        (r#"{"fault": "clear", "csrf": "x"}"#, "/csrf"),
        (r#"{"fault": "clear", "extra": 1}"#, "/extra"),
    ] {
        let res = post(body, "application/json").await.expect("request");
        assert_eq!(res.status().as_u16(), 422, "{body}");
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(
            problem["errors"][0]["pointer"], pointer,
            "{body}: {problem}"
        );
    }
}

#[tokio::test]
async fn without_the_dev_issuer_there_is_no_faults_page_and_no_example_app() {
    let idp = portcullis_dev_issuer::LoopbackIssuer::start()
        .await
        .expect("issuer");
    let issuer = std::sync::Arc::clone(&idp.issuer);
    let app = TestApp::sqlite().cognito(&issuer).dev_mode().start().await;
    assert_eq!(app.config().auth.provider, Some(AuthProvider::Cognito));
    for path in [
        "/dev-issuer/faults",
        "/examples/spa/",
        "/examples/spa/app.js",
    ] {
        let res = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    let res = app
        .client
        .post(app.url("/dev-issuer/faults"))
        .json(&json!({"fault": "rotate-key"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn serve_with_the_dev_issuer_publishes_keys_but_no_faults_page_or_example_app() {
    let app = TestApp::sqlite().start().await;
    assert_eq!(app.config().auth.provider, Some(AuthProvider::Dev));
    for path in ["/dev-issuer/faults", "/examples/spa/"] {
        let res = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    let res = app
        .client
        .get(app.url("/dev-issuer/.well-known/jwks.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn the_example_app_is_served_with_a_strict_csp() {
    let app = TestApp::sqlite().dev_mode().start().await;
    for (path, media) in [
        ("/examples/spa/", "text/html"),
        ("/examples/spa/app.js", "text/javascript"),
        ("/examples/spa/style.css", "text/css"),
    ] {
        let res = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let ct = res.headers()[CONTENT_TYPE]
            .to_str()
            .expect("type")
            .to_owned();
        assert!(ct.starts_with(media), "{path}: {ct}");
        let csp = res.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
    }
    let html = app
        .client
        .get(app.url("/examples/spa/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(!html.contains("<script>"), "no inline script");
}
