//! The identity provider of `portcullis dev`, over real HTTP with a client that follows no
//! redirect: the code flow with PKCE, refresh rotation and reuse, revocation and logout,
//! client authentication, TOTP step-up, the persona seed, and its absence under `serve`.
//! Every error is checked for the code its RFC names.

mod clients;
mod code_flow;
mod codes;
mod only_dev;
mod refresh;
mod seed;
mod totp;

use crate::support::TestApp;
use base64::Engine as _;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

pub const SPA: &str = "http://127.0.0.1:5173/callback";
pub const CLIENT: &str = "portcullis-dev";

/// A browser without JavaScript: keeps cookies, never follows redirects.
pub struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: no_redirects(),
            cookies: HashMap::new(),
        }
    }

    fn remember(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().expect("ascii cookie");
            let pair = v.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), val.to_owned());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let mut req = self.http.get(url);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let res = req.send().await.expect("GET");
        self.remember(res.headers());
        res
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(form));
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let res = req.send().await.expect("POST");
        self.remember(res.headers());
        res
    }
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

pub fn encode(form: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A PKCE pair.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::now_v7().simple(),
        uuid::Uuid::now_v7().simple()
    );
    let challenge = portcullis_dev_issuer::pkce::challenge_of(&verifier);
    Pkce {
        verifier,
        challenge,
    }
}

pub fn idp(app: &TestApp, path: &str) -> String {
    app.url(&format!("/dev-issuer{path}"))
}

/// `/oauth2/authorize` for `client` back to `redirect`, with the challenge, `state=xyz`,
/// `nonce=n-0S6`, and `extra`.
pub fn authorize_url(
    app: &TestApp,
    client: &str,
    redirect: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("scope", "openid profile email"),
        ("state", "xyz"),
        ("nonce", "n-0S6"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        q.retain(|(name, _)| name != k);
        q.push((k, v));
    }
    format!("{}?{}", idp(app, "/oauth2/authorize"), encode(&q))
}

/// The request id hidden in a sign-in page.
pub fn request_id(html: &str) -> String {
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).expect("the page carries a request id") + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

pub fn location(res: &reqwest::Response) -> url::Url {
    let loc = res
        .headers()
        .get(LOCATION)
        .expect("a redirect")
        .to_str()
        .expect("ascii");
    url::Url::parse(loc).expect("absolute Location")
}

pub fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Loads the sign-in page and returns its request id.
pub async fn open_page(browser: &mut Browser, url: &str) -> String {
    let res = browser.get(url).await;
    assert_eq!(res.status(), 200, "the sign-in page");
    request_id(&res.text().await.expect("html"))
}

/// Signs in as `persona` (no MFA asked) and returns the code from the redirect.
pub async fn code_for(
    app: &TestApp,
    browser: &mut Browser,
    persona: &str,
    client: &str,
    redirect: &str,
    challenge: &str,
) -> String {
    let id = open_page(
        browser,
        &authorize_url(app, client, redirect, challenge, &[]),
    )
    .await;
    let res = browser
        .post(
            &idp(app, "/oauth2/authorize"),
            &[("request", &id), ("persona", persona)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.as_str().starts_with(redirect), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    param(&back, "code").expect("a code")
}

/// What a token endpoint answered.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    pub fn str(&self, name: &str) -> String {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {}", self.body))
            .to_owned()
    }
}

pub async fn post_form(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Answer {
    let mut req = no_redirects()
        .post(idp(app, path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(form));
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.expect("POST");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON from {path}: {text}"))
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn exchange(app: &TestApp, code: &str, verifier: &str) -> Answer {
    post_form(
        app,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", code),
            ("redirect_uri", SPA),
            ("code_verifier", verifier),
        ],
        None,
    )
    .await
}

pub async fn refresh(app: &TestApp, token: &str) -> Answer {
    post_form(
        app,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", token),
        ],
        None,
    )
    .await
}

/// A whole sign-in of `persona` with the default client: the token response.
pub async fn sign_in(app: &TestApp, persona: &str) -> Answer {
    let mut browser = Browser::new();
    let p = pkce();
    let code = code_for(app, &mut browser, persona, CLIENT, SPA, &p.challenge).await;
    let answer = exchange(app, &code, &p.verifier).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

/// The payload of a JWT, unverified (the API verifies; tests read).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// `GET /v1/me` with `token`: the status.
pub async fn me(app: &TestApp, token: &str) -> u16 {
    app.bearer(token).me().await
}

pub fn assert_oauth_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.error()),
        (status, code),
        "{}",
        answer.body
    );
    assert!(answer.body["error_description"].is_string());
    assert_eq!(
        answer.headers.get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
}

/// Started as `portcullis dev` starts.
pub async fn dev_app() -> TestApp {
    TestApp::sqlite().dev_mode().start().await
}
