//! Every rule of the verifier, each with a token that must fail it, against a real issuer
//! over HTTP. (The server's end-to-end tests repeat the matrix through the HTTP API.)

use crate::controlled_issuer::{Setup, setup};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_auth::Rejection;
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use serde_json::{Value, json};
use std::time::Duration;

async fn loaded() -> Setup {
    let s = setup().await;
    s.load().await;
    s
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn outcome(s: &Setup, token: &str) -> Result<(), Rejection> {
    s.verifier.verify(token).await.map(|_| ())
}

fn header(s: &Setup) -> Value {
    json!({"alg": "RS256", "kid": s.control.issuer.current_kid()})
}

fn claims(s: &Setup) -> Value {
    Value::Object(s.control.issuer.access_claims(&TokenSpec::default()))
}

#[tokio::test]
async fn valid_access_token_is_accepted_and_typed() {
    let s = loaded().await;
    let t = s
        .control
        .issuer
        .mint_access(&TokenSpec::new("alice").groups(["portcullis-admin"]));
    let v = s.verifier.verify(&t).await.expect("valid");
    assert_eq!(v.claims.sub, "alice");
    assert_eq!(v.groups, ["portcullis-admin"]);
    assert_eq!(v.claims.token_use.as_deref(), Some("access"));
    // Second time from the cache, same answer.
    assert_eq!(s.verifier.verify(&t).await.expect("cached"), v);
}

#[tokio::test]
async fn time_rules() {
    let s = loaded().await;
    let i = &s.control.issuer;
    let expired = i.mint_access(&TokenSpec::default().issued_at(now() - 7200));
    assert_eq!(outcome(&s, &expired).await, Err(Rejection::Expired));
    let future_iat = i.mint_access(&TokenSpec::default().issued_at(now() + 600));
    assert_eq!(
        outcome(&s, &future_iat).await,
        Err(Rejection::IssuedInFuture)
    );
    let nbf = i.mint_access(&TokenSpec::default().claim("nbf", json!(now() + 600)));
    assert_eq!(outcome(&s, &nbf).await, Err(Rejection::NotYetValid));
    let no_exp = i.mint_access(&TokenSpec::default().omit("exp"));
    assert_eq!(outcome(&s, &no_exp).await, Err(Rejection::MissingExp));
    let string_exp =
        i.mint_access(&TokenSpec::default().claim("exp", json!((now() + 600).to_string())));
    assert_eq!(outcome(&s, &string_exp).await, Err(Rejection::BadClaims));
    let long = i.mint_access(&TokenSpec::default().ttl(Duration::from_secs(48 * 3600)));
    assert_eq!(outcome(&s, &long).await, Err(Rejection::LifetimeTooLong));
}

#[tokio::test]
async fn expiry_is_rechecked_on_cache_hits() {
    let s = loaded().await;
    let t = s
        .control
        .issuer
        .mint_access(&TokenSpec::default().ttl(Duration::from_secs(120)));
    assert!(s.verifier.verify(&t).await.is_ok());
    s.clock.advance(chrono::Duration::seconds(200));
    assert_eq!(outcome(&s, &t).await, Err(Rejection::Expired));
}

#[tokio::test]
async fn token_type_and_audience_rules() {
    let s = loaded().await;
    let i = &s.control.issuer;
    let id = i.mint_id(&TokenSpec::default());
    assert_eq!(outcome(&s, &id).await, Err(Rejection::WrongTokenUse));
    let other_client = i.mint_access(&TokenSpec::default().client_id("someone-else"));
    assert_eq!(
        outcome(&s, &other_client).await,
        Err(Rejection::WrongClient)
    );
    let no_client = i.mint_access(&TokenSpec::default().omit("client_id"));
    assert_eq!(outcome(&s, &no_client).await, Err(Rejection::WrongClient));
    let no_use = i.mint_access(&TokenSpec::default().omit("token_use"));
    assert_eq!(outcome(&s, &no_use).await, Err(Rejection::WrongTokenUse));
    let groups_number = i.mint_access(&TokenSpec::default().claim("cognito:groups", json!(5)));
    assert_eq!(outcome(&s, &groups_number).await, Err(Rejection::BadClaims));
}

#[tokio::test]
async fn issuer_rules() {
    let s = loaded().await;
    let before = s.control.fetches();
    let elsewhere = DevIssuer::ephemeral("https://evil.example");
    let t = elsewhere.mint_access(&TokenSpec::default());
    assert_eq!(outcome(&s, &t).await, Err(Rejection::UnknownIssuer));
    let no_iss = s
        .control
        .issuer
        .mint_access(&TokenSpec::default().omit("iss"));
    assert_eq!(outcome(&s, &no_iss).await, Err(Rejection::UnknownIssuer));
    // Our issuer's name on a token signed by another key.
    let forged = DevIssuer::ephemeral(s.control.issuer.issuer_url());
    let mut h = header(&s);
    h["kid"] = json!(s.control.issuer.current_kid());
    let t = forged.sign_raw(&h, &claims(&s));
    assert_eq!(outcome(&s, &t).await, Err(Rejection::BadSignature));
    assert_eq!(
        s.control.fetches(),
        before,
        "unknown issuers cause no fetch"
    );
}

#[tokio::test]
async fn header_rules() {
    let s = loaded().await;
    let i = &s.control.issuer;
    let c = claims(&s);
    let kid = i.current_kid();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = i.sign_raw(&json!({"alg": alg, "kid": kid}), &c);
        assert_eq!(
            outcome(&s, &t).await,
            Err(Rejection::AlgNotAllowed),
            "{alg}"
        );
        // The unsigned form: empty signature.
        let unsigned = format!("{}.", t.rsplit_once('.').map(|(a, _)| a).unwrap_or(""));
        assert_eq!(outcome(&s, &unsigned).await, Err(Rejection::Malformed));
    }
    for member in ["jku", "x5u", "jwk", "x5c", "crit"] {
        let t = i.sign_raw(
            &json!({"alg": "RS256", "kid": kid, member: "https://evil.example/k"}),
            &c,
        );
        assert_eq!(
            outcome(&s, &t).await,
            Err(Rejection::ForbiddenHeader),
            "{member}"
        );
    }
    let no_kid = i.sign_raw(&json!({"alg": "RS256"}), &c);
    assert_eq!(outcome(&s, &no_kid).await, Err(Rejection::BadHeader));
    let es = i.sign_raw(&json!({"alg": "ES256", "kid": kid}), &c);
    assert_eq!(outcome(&s, &es).await, Err(Rejection::AlgNotAllowed));
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let s = loaded().await;
    let i = &s.control.issuer;
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": i.current_kid()}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims(&s).to_string());
    let input = format!("{header}.{payload}");
    for secret in [
        i.current_public_key_der(),
        i.current_public_key_pem().into_bytes(),
    ] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert_eq!(outcome(&s, &t).await, Err(Rejection::AlgNotAllowed));
    }
}

#[tokio::test]
async fn shape_rules() {
    let s = loaded().await;
    let good = s.control.issuer.mint_access(&TokenSpec::default());
    let big = s
        .control
        .issuer
        .mint_access(&TokenSpec::default().claim("pad", json!("x".repeat(9000))));
    assert_eq!(outcome(&s, &big).await, Err(Rejection::Oversized));
    for bad in [
        "".to_owned(),
        "abc".to_owned(),
        good.replacen('.', "..", 1),
        format!("{good}="),
        format!("{good}.x"),
        // `+` is standard base64, not base64url (inserted, so the token always changes).
        format!("{}+{}", &good[..20], &good[20..]),
        format!(" {good}"),
    ] {
        let r = outcome(&s, &bad).await;
        assert!(
            matches!(r, Err(Rejection::Malformed | Rejection::BadSignature)),
            "{bad:?}: {r:?}"
        );
    }
    let (head, sig) = good.rsplit_once('.').expect("parts");
    let mut sig_bytes = URL_SAFE_NO_PAD.decode(sig).expect("b64");
    sig_bytes[0] ^= 1;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&sig_bytes));
    assert_eq!(outcome(&s, &tampered).await, Err(Rejection::BadSignature));
    let not_json = s
        .control
        .issuer
        .sign_parts(br#"{"alg":"RS256","kid":"k"}"#, b"not json");
    assert_eq!(outcome(&s, &not_json).await, Err(Rejection::Malformed));
}
