//! The token verification rules (docs/security.md), one named test per attack, through the
//! HTTP API of the running server, against a real issuer serving its JWKS and discovery on a loopback port.
//! Every refused token must get a byte-identical 401 body apart from its request id: the
//! response is no oracle for which check failed.

use crate::support::{TestApp, assert_problem, challenge, with_metadata};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_dev_issuer::{DevIssuer, LoopbackIssuer, TokenSpec};
use serde_json::{Value, json};
use std::time::Duration;

struct Fixture {
    issuer: LoopbackIssuer,
    app: TestApp,
}

/// The server with a Cognito provider whose issuer is a real HTTP server on loopback.
async fn cognito() -> Fixture {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = TestApp::sqlite().cognito(&issuer.issuer).start().await;
    app.wait_ready().await;
    Fixture { issuer, app }
}

/// The same issuer configured as a generic OIDC provider (discovery), accepting audience `api`.
async fn oidc() -> Fixture {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = TestApp::sqlite().oidc(&issuer.issuer).start().await;
    app.wait_ready().await;
    Fixture { issuer, app }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Fixture {
    fn i(&self) -> &DevIssuer {
        &self.issuer.issuer
    }

    fn mint(&self, spec: TokenSpec) -> String {
        self.i().mint_access(&spec)
    }

    fn sign(&self, header: Value, claims: Value) -> String {
        self.i().sign_raw(&header, &claims)
    }

    fn header(&self) -> Value {
        json!({"alg": "RS256", "kid": self.i().current_kid()})
    }

    fn claims(&self) -> Value {
        Value::Object(self.i().access_claims(&TokenSpec::default()))
    }

    async fn me(&self, token: &str) -> reqwest::Response {
        self.app
            .anonymous()
            .get("/v1/me")
            .header("authorization", &format!("Bearer {token}"))
            .send()
            .await
    }

    /// Asserts a refusal and returns the body without its request id.
    async fn refused(&self, token: &str) -> Value {
        let res = self.me(token).await;
        refusal(res).await
    }

    /// A refusal must look exactly like the refusal of a plain garbage token.
    async fn assert_refused(&self, token: &str) {
        let reference = self.refused("garbage").await;
        assert_eq!(self.refused(token).await, reference);
    }
}

async fn refusal(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 401);
    assert_eq!(
        challenge(&res),
        Some(with_metadata(&res, r#"Bearer error="invalid_token""#))
    );
    let mut body = assert_problem(res, 401).await;
    body.as_object_mut().map(|o| o.remove("request_id"));
    body
}

#[tokio::test]
async fn valid_token_is_accepted() {
    let f = cognito().await;
    let res = f
        .me(&f.mint(TokenSpec::new("alice").username("alice")))
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.expect("json");
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["issuer"], f.issuer.issuer_url());
}

#[tokio::test]
async fn missing_token_gets_a_plain_bearer_challenge() {
    let f = cognito().await;
    let res = f.app.anonymous().get("/v1/me").send().await;
    assert_eq!(res.status(), 401);
    // RFC 9728 section 5.1: the challenge names the protected-resource metadata.
    assert_eq!(
        challenge(&res),
        Some(format!(
            r#"Bearer resource_metadata="{}""#,
            f.app.url("/.well-known/oauth-protected-resource")
        ))
    );
    // The body is the same generic 401 as for a bad token.
    let mut body = assert_problem(res, 401).await;
    body.as_object_mut().map(|o| o.remove("request_id"));
    assert_eq!(body, f.refused("garbage").await);
}

#[tokio::test]
async fn expired_token() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().issued_at(now() - 7200)))
        .await;
}

#[tokio::test]
async fn not_yet_valid_token() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().claim("nbf", json!(now() + 600))))
        .await;
}

#[tokio::test]
async fn iat_in_the_future() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().issued_at(now() + 600)))
        .await;
}

#[tokio::test]
async fn exp_missing() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().omit("exp")))
        .await;
}

#[tokio::test]
async fn exp_of_the_wrong_json_type() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().claim("exp", json!((now() + 600).to_string()))))
        .await;
}

#[tokio::test]
async fn lifetime_over_the_cap() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().ttl(Duration::from_secs(25 * 3600))))
        .await;
}

#[tokio::test]
async fn wrong_issuer() {
    let f = cognito().await;
    let elsewhere = DevIssuer::ephemeral("https://evil.example");
    f.assert_refused(&elsewhere.mint_access(&TokenSpec::default()))
        .await;
}

#[tokio::test]
async fn wrong_client_id() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().client_id("another-app")))
        .await;
}

#[tokio::test]
async fn wrong_audience() {
    let f = oidc().await;
    let ok = f.mint(TokenSpec::default().claim("aud", json!("api")));
    assert_eq!(
        f.me(&ok).await.status(),
        200,
        "the right audience is accepted"
    );
    f.assert_refused(&f.mint(TokenSpec::default().claim("aud", json!("other-api"))))
        .await;
    f.assert_refused(&f.mint(TokenSpec::default())).await;
}

#[tokio::test]
async fn id_token_where_an_access_token_is_required() {
    let f = cognito().await;
    f.assert_refused(&f.i().mint_id(&TokenSpec::default()))
        .await;
    // Under OIDC too, even when its audience is accepted.
    let o = oidc().await;
    let id = o.i().mint_id(&TokenSpec::default().client_id("api"));
    o.assert_refused(&id).await;
}

#[tokio::test]
async fn alg_none_in_any_casing() {
    let f = cognito().await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let signed = f.sign(json!({"alg": alg, "kid": f.i().current_kid()}), f.claims());
        f.assert_refused(&signed).await;
        let (unsigned, _) = signed.rsplit_once('.').expect("three parts");
        f.assert_refused(&format!("{unsigned}.")).await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key() {
    let f = cognito().await;
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": f.i().current_kid()}).to_string());
    let input = format!(
        "{header}.{}",
        URL_SAFE_NO_PAD.encode(f.claims().to_string())
    );
    for secret in [
        f.i().current_public_key_der(),
        f.i().current_public_key_pem().into_bytes(),
    ] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        f.assert_refused(&format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
            .await;
    }
}

#[tokio::test]
async fn signature_by_another_key() {
    let f = cognito().await;
    let impostor = DevIssuer::ephemeral(f.issuer.issuer_url());
    let forged = impostor.sign_raw(&f.header(), &f.claims());
    f.assert_refused(&forged).await;
}

#[tokio::test]
async fn unknown_kid() {
    let f = cognito().await;
    f.assert_refused(&f.sign(
        json!({"alg": "RS256", "kid": "not-a-published-kid"}),
        f.claims(),
    ))
    .await;
}

#[tokio::test]
async fn missing_kid() {
    let f = cognito().await;
    f.assert_refused(&f.sign(json!({"alg": "RS256"}), f.claims()))
        .await;
}

#[tokio::test]
async fn jku_x5u_jwk_x5c_crit_headers() {
    let f = cognito().await;
    for member in ["jku", "x5u", "jwk", "x5c", "crit"] {
        let mut h = f.header();
        h[member] = json!("https://evil.example/keys");
        f.assert_refused(&f.sign(h, f.claims())).await;
    }
}

#[tokio::test]
async fn oversized_token() {
    let f = cognito().await;
    f.assert_refused(&f.mint(TokenSpec::default().claim("pad", json!("x".repeat(9000)))))
        .await;
}

#[tokio::test]
async fn malformed_segments_and_base64() {
    let f = cognito().await;
    let good = f.mint(TokenSpec::default());
    let (head, sig) = good.rsplit_once('.').expect("parts");
    for bad in [
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        format!("{head}."),
        format!("{head}.{sig}="),
        format!("{head}.{sig}%%"),
        good.replacen('.', "..", 1),
        format!("{}.{head}", "@@@"),
        f.i().sign_parts(b"{not json", b"{}"),
        f.i().sign_parts(br#"{"alg":"RS256","kid":"k"}"#, b"[1,2]"),
    ] {
        f.assert_refused(&bad).await;
    }
}

#[tokio::test]
async fn token_in_the_query_string() {
    let f = cognito().await;
    let good = f.mint(TokenSpec::default());
    let path = format!("/v1/me?access_token={good}");
    // Alone, and even alongside a valid Authorization header: the URL has already leaked it.
    let alone = f.app.anonymous().get(&path).send().await;
    assert_eq!(alone.status(), 401);
    let with_header = f
        .app
        .anonymous()
        .get(&path)
        .header("authorization", &format!("Bearer {good}"))
        .send()
        .await;
    let body = refusal(with_header).await;
    assert_eq!(body, f.refused("garbage").await);
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let f = cognito().await;
    let good = f.mint(TokenSpec::default());
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let res = f
            .app
            .anonymous()
            .get("/v1/me")
            .header("authorization", &format!("{scheme} {good}"))
            .send()
            .await;
        assert_eq!(res.status(), 200, "{scheme}");
    }
}
