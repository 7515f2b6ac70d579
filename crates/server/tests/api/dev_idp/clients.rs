//! A confidential client: `client_secret_basic` and `client_secret_post` work; a wrong or
//! missing secret is `invalid_client` (401 with a Basic challenge); grants the client may not
//! use, or that do not exist, get their own codes.

use super::*;
use portcullis::config::{DevClient, Redacted};

const WEB: &str = "web-app";
const SECRET: &str = "correct horse battery";
const CALLBACK: &str = "https://app.example.test/callback";

async fn app_with_confidential_client() -> TestApp {
    TestApp::sqlite()
        .dev_mode()
        .with_config(|c| {
            c.dev.clients.push(DevClient {
                client_id: WEB.into(),
                redirect_uris: vec![CALLBACK.into()],
                logout_uris: Vec::new(),
                client_secret: Some(Redacted::new(SECRET)),
                grant_types: vec!["authorization_code".into()],
            });
        })
        .start()
        .await
}

async fn web_code(app: &TestApp, p: &Pkce) -> String {
    let mut browser = Browser::new();
    code_for(app, &mut browser, "dev-member", WEB, CALLBACK, &p.challenge).await
}

fn code_form<'a>(code: &'a str, p: &'a Pkce) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", &p.verifier),
    ]
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let app = app_with_confidential_client().await;
    let p = pkce();
    let code = web_code(&app, &p).await;
    let answer = post_form(
        &app,
        "/oauth2/token",
        &code_form(&code, &p),
        Some((WEB, "wrong")),
    )
    .await;
    assert_oauth_error(&answer, 401, "invalid_client");
    assert!(
        answer.headers["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .starts_with("Basic"),
        "Basic was used: the challenge says so"
    );
    let mut form = code_form(&code, &p);
    form.extend([("client_id", WEB), ("client_secret", "wrong")]);
    assert_oauth_error(
        &post_form(&app, "/oauth2/token", &form, None).await,
        401,
        "invalid_client",
    );
    // An unknown client is no better.
    assert_oauth_error(
        &post_form(
            &app,
            "/oauth2/token",
            &code_form(&code, &p),
            Some(("nobody", SECRET)),
        )
        .await,
        401,
        "invalid_client",
    );
}

#[tokio::test]
async fn a_confidential_client_without_authentication_is_invalid_client() {
    let app = app_with_confidential_client().await;
    let p = pkce();
    let code = web_code(&app, &p).await;
    let mut form = code_form(&code, &p);
    form.push(("client_id", WEB));
    assert_oauth_error(
        &post_form(&app, "/oauth2/token", &form, None).await,
        401,
        "invalid_client",
    );
    // Neither client_id nor credentials.
    assert_oauth_error(
        &post_form(&app, "/oauth2/token", &code_form(&code, &p), None).await,
        401,
        "invalid_client",
    );
    // Two methods at once.
    let mut both = code_form(&code, &p);
    both.push(("client_secret", SECRET));
    assert_oauth_error(
        &post_form(&app, "/oauth2/token", &both, Some((WEB, SECRET))).await,
        400,
        "invalid_request",
    );
}

#[tokio::test]
async fn basic_and_post_client_authentication_both_work() {
    let app = app_with_confidential_client().await;
    let p = pkce();
    let code = web_code(&app, &p).await;
    let basic = post_form(
        &app,
        "/oauth2/token",
        &code_form(&code, &p),
        Some((WEB, SECRET)),
    )
    .await;
    assert_eq!(basic.status, 200, "{}", basic.body);
    let access = basic.str("access_token");
    assert_eq!(claims(&access)["client_id"], WEB);
    assert_eq!(
        me(&app, &access).await,
        200,
        "the API takes the configured client's tokens"
    );
    assert!(
        basic.body.get("refresh_token").is_none(),
        "no refresh grant for this client"
    );

    let p = pkce();
    let code = web_code(&app, &p).await;
    let mut form = code_form(&code, &p);
    form.extend([("client_id", WEB), ("client_secret", SECRET)]);
    let post = post_form(&app, "/oauth2/token", &form, None).await;
    assert_eq!(post.status, 200, "{}", post.body);

    // A code of the confidential client is not the public client's.
    let p = pkce();
    let code = web_code(&app, &p).await;
    let mut form = code_form(&code, &p);
    form.push(("client_id", CLIENT));
    assert_oauth_error(
        &post_form(&app, "/oauth2/token", &form, None).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn grant_types_the_client_may_not_use_or_that_do_not_exist() {
    let app = app_with_confidential_client().await;
    let refresh = post_form(
        &app,
        "/oauth2/token",
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        Some((WEB, SECRET)),
    )
    .await;
    assert_oauth_error(&refresh, 400, "unauthorized_client");
    for grant in ["password", "client_credentials", "implicit"] {
        let answer = post_form(
            &app,
            "/oauth2/token",
            &[("grant_type", grant)],
            Some((WEB, SECRET)),
        )
        .await;
        assert_oauth_error(&answer, 400, "unsupported_grant_type");
    }
    let answer = post_form(&app, "/oauth2/token", &[("client_id", CLIENT)], None).await;
    assert_oauth_error(&answer, 400, "invalid_request");
    let twice = post_form(
        &app,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("grant_type", "refresh_token"),
        ],
        None,
    )
    .await;
    assert_oauth_error(&twice, 400, "invalid_request");
}
