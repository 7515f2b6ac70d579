//! The authorization code flow end to end: discovery, the sign-in page, the code, the tokens,
//! and the API and userInfo accepting the access token.

use super::*;
use crate::support::client;

#[tokio::test]
async fn discovery_lists_every_endpoint() {
    let app = dev_app().await;
    let doc: Value = client()
        .get(idp(&app, "/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let base = idp(&app, "");
    assert_eq!(doc["issuer"], base);
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("userinfo_endpoint", "/oauth2/userInfo"),
        ("end_session_endpoint", "/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(doc[field], format!("{base}{path}"), "{field}");
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    // The JWKS is still served next to it.
    let jwks = client()
        .get(idp(&app, "/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(jwks.status(), 200);
}

#[tokio::test]
async fn a_persona_signs_in_and_the_api_knows_them_with_their_orgs() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let res = browser
        .get(&authorize_url(&app, CLIENT, SPA, &p.challenge, &[]))
        .await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:5173"),
        "the redirect after the post is allowed: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let html = res.text().await.expect("html");
    for persona in ["dev-admin", "dev-member", "dev-mfa"] {
        assert!(html.contains(&format!("value=\"{persona}\"")), "{persona}");
    }
    assert!(!html.contains("<script"), "no script on the page");
    assert!(
        html.contains("<label for=\"sub\">"),
        "the sub field is labelled"
    );
    let id = request_id(&html);

    let res = browser
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[("request", &id), ("persona", "dev-member")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert_eq!(
        back.as_str().split('?').next(),
        Some(SPA),
        "back to the registered URI"
    );
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&back, "iss"), Some(idp(&app, "")));
    let code = param(&back, "code").expect("code");

    let answer = exchange(&app, &code, &p.verifier).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 3600);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let access = answer.str("access_token");
    let id_token = answer.str("id_token");
    assert!(
        !answer.str("refresh_token").contains('.'),
        "opaque refresh token"
    );

    let a = claims(&access);
    assert_eq!(a["token_use"], "access");
    assert_eq!(a["client_id"], CLIENT);
    assert_eq!(a["sub"], "dev-member");
    assert_eq!(a["amr"], serde_json::json!(["pwd"]));
    assert!(a["auth_time"].is_i64());
    let i = claims(&id_token);
    assert_eq!(i["token_use"], "id");
    assert_eq!(i["aud"], CLIENT);
    assert_eq!(i["nonce"], "n-0S6");
    assert_eq!(i["email"], "dev-member@example.com");
    assert_eq!(a["origin_jti"], i["origin_jti"], "one session");

    let me: Value = app.bearer(&access).get("/v1/me").expect(200).await;
    assert_eq!(me["sub"], "dev-member");
    assert_eq!(me["email"], "dev-member@example.com");
    let orgs: Vec<(String, String)> = me["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .map(|m| {
            (
                m["org_name"].as_str().unwrap_or_default().to_owned(),
                m["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(orgs, [("Acme".to_owned(), "member".to_owned())]);

    let info = no_redirects()
        .get(idp(&app, "/oauth2/userInfo"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("userInfo");
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.expect("json");
    assert_eq!(info["sub"], "dev-member");
    assert_eq!(info["email"], "dev-member@example.com");
    // The ID token is no access token, here either.
    let refused = no_redirects()
        .get(idp(&app, "/oauth2/userInfo"))
        .bearer_auth(&id_token)
        .send()
        .await
        .expect("userInfo");
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn any_other_sub_can_sign_in() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let id = open_page(
        &mut browser,
        &authorize_url(&app, CLIENT, SPA, &p.challenge, &[]),
    )
    .await;
    let res = browser
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[("request", &id), ("action", "other"), ("sub", "carol")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let code = param(&location(&res), "code").expect("code");
    let answer = exchange(&app, &code, &p.verifier).await;
    let me: Value = app
        .bearer(&answer.str("access_token"))
        .get("/v1/me")
        .expect(200)
        .await;
    assert_eq!(me["sub"], "carol");
    assert_eq!(me["memberships"], serde_json::json!([]));
}

#[tokio::test]
async fn cancel_returns_access_denied_with_the_state() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let id = open_page(
        &mut browser,
        &authorize_url(&app, CLIENT, SPA, &p.challenge, &[]),
    )
    .await;
    let res = browser
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[("request", &id), ("action", "cancel")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&back, "code"), None);
}

/// The form post must come from the browser that loaded the page: without its cookie (a
/// cross-site post does not carry a `SameSite=Strict` cookie) the request id is worth nothing.
#[tokio::test]
async fn a_post_without_the_page_cookie_is_refused() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let id = open_page(
        &mut browser,
        &authorize_url(&app, CLIENT, SPA, &p.challenge, &[]),
    )
    .await;
    let mut other = Browser::new();
    let res = other
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[("request", &id), ("persona", "dev-admin")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none(), "no redirect");
    // A made-up request id is refused the same way, cookie or not.
    let res = browser
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[
                ("request", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                ("persona", "dev-admin"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    // The page's own browser still can.
    let res = browser
        .post(
            &idp(&app, "/oauth2/authorize"),
            &[("request", &id), ("persona", "dev-admin")],
        )
        .await;
    assert_eq!(res.status(), 303);
}

/// A front end on its own port calls the token endpoint with `fetch`: its origin is allowed,
/// another site's is not.
#[tokio::test]
async fn browser_apps_on_loopback_may_call_the_token_endpoint_cross_origin() {
    let app = dev_app().await;
    let http = no_redirects();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, idp(&app, "/oauth2/token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("http://localhost:5173").await.expect("preflight");
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let evil = preflight("https://evil.example").await.expect("preflight");
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let answer = http
        .post(idp(&app, "/oauth2/token"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&client_id=portcullis-dev&refresh_token=x")
        .send()
        .await
        .expect("token");
    assert_eq!(answer.status(), 400);
    assert!(
        answer
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
