//! Each check of a proof, with an input that must fail it, and the binding rules between the
//! `Authorization` scheme, the token's `cnf.jkt` and the issuer's mode.

use super::{app, assert_dpop_error, bound_token, challenges, me, send};
use crate::support::dpop::{DpopKey, now};
use portcullis_auth::dpop::DpopMode;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_good_proof_is_accepted_on_every_method() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/me");
    let res = me(&app, &token, &key.proof("GET", &url, &token).sign()).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["sub"], "alice");
    // A write, with its own method and URL; the scheme is case-insensitive.
    let create = app.url("/v1/orgs");
    let proof = key.proof("POST", &create, &token).sign();
    let res = app
        .anonymous()
        .post("/v1/orgs")
        .header("authorization", &format!("dpop {token}"))
        .header("dpop", &proof)
        .json(json!({"name": "bound"}))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    // The query string is not part of `htu`.
    let proof = key.proof("GET", &url, &token).sign();
    let res = send(
        &app,
        Method::GET,
        "/v1/orgs?page_size=5",
        "DPoP",
        &token,
        &[&key.proof("GET", &app.url("/v1/orgs"), &token).sign()],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(me(&app, &token, &proof).await.status(), 200);
}

#[tokio::test]
async fn missing_or_doubled_proofs_are_refused() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let res = send(&app, Method::GET, "/v1/me", "DPoP", &token, &[]).await;
    assert_dpop_error(&res, "invalid_dpop_proof");
    let url = app.url("/v1/me");
    let (a, b) = (
        key.proof("GET", &url, &token).sign(),
        key.proof("GET", &url, &token).sign(),
    );
    let res = send(&app, Method::GET, "/v1/me", "DPoP", &token, &[&a, &b]).await;
    assert_dpop_error(&res, "invalid_dpop_proof");
    // Neither was spent: each alone still works.
    assert_eq!(me(&app, &token, &a).await.status(), 200);
}

#[tokio::test]
async fn each_claim_of_the_proof_is_checked() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/me");
    let other = bound_token(&app, "alice", &key);
    let cases = [
        ("wrong htm", key.proof("POST", &url, &token).sign()),
        ("lowercase htm", key.proof("get", &url, &token).sign()),
        (
            "wrong htu path",
            key.proof("GET", &app.url("/v1/orgs"), &token).sign(),
        ),
        (
            "wrong htu host",
            key.proof("GET", "http://elsewhere.example/v1/me", &token)
                .sign(),
        ),
        (
            "wrong htu scheme",
            key.proof("GET", &url.replacen("http://", "https://", 1), &token)
                .sign(),
        ),
        (
            "old iat",
            key.proof("GET", &url, &token)
                .claim("iat", json!(now() - 600))
                .sign(),
        ),
        (
            "future iat",
            key.proof("GET", &url, &token)
                .claim("iat", json!(now() + 600))
                .sign(),
        ),
        (
            "iat as a string",
            key.proof("GET", &url, &token)
                .claim("iat", json!(now().to_string()))
                .sign(),
        ),
        (
            "ath of another token",
            key.proof("GET", &url, &other).sign(),
        ),
        (
            "no ath",
            key.proof("GET", &url, &token).without("ath").sign(),
        ),
        (
            "no jti",
            key.proof("GET", &url, &token).without("jti").sign(),
        ),
        (
            "typ JWT",
            key.proof("GET", &url, &token)
                .header("typ", json!("JWT"))
                .sign(),
        ),
        (
            "a jku",
            key.proof("GET", &url, &token)
                .header("jku", json!("https://evil.example/jwks"))
                .sign(),
        ),
    ];
    for (what, proof) in cases {
        let res = me(&app, &token, &proof).await;
        assert_dpop_error(&res, "invalid_dpop_proof");
        assert_eq!(res.status(), 401, "{what}");
    }
    // Still fine with a good one: none of the refusals spent anything of the token.
    let good = key.proof("GET", &url, &token).sign();
    assert_eq!(me(&app, &token, &good).await.status(), 200);
}

#[tokio::test]
async fn a_replayed_proof_is_refused() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let proof = key.proof("GET", &app.url("/v1/me"), &token).sign();
    assert_eq!(me(&app, &token, &proof).await.status(), 200);
    assert_dpop_error(&me(&app, &token, &proof).await, "invalid_dpop_proof");
    // Same jti, otherwise a new proof: still a replay.
    let jti = serde_json::from_slice::<serde_json::Value>(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            proof.split('.').nth(1).expect("payload"),
        )
        .expect("b64"),
    )
    .expect("json")["jti"]
        .clone();
    let again = key
        .proof("GET", &app.url("/v1/me"), &token)
        .claim("jti", jti)
        .sign();
    assert_dpop_error(&me(&app, &token, &again).await, "invalid_dpop_proof");
}

#[tokio::test]
async fn the_key_must_be_the_bound_one_and_public() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let thief = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/me");
    // A valid proof, signed by another key than the one the token names.
    let res = me(&app, &token, &thief.proof("GET", &url, &token).sign()).await;
    assert_dpop_error(&res, "invalid_dpop_proof");
    // The right key's public part, with private material added: refused, not trusted.
    for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        let mut jwk = key.jwk();
        jwk[member] = json!("AAAA");
        let proof = key.proof("GET", &url, &token).header("jwk", jwk).sign();
        assert_dpop_error(&me(&app, &token, &proof).await, "invalid_dpop_proof");
    }
    // The header says one key, the signature is another's.
    let proof = thief
        .proof("GET", &url, &token)
        .header("jwk", key.jwk())
        .sign();
    assert_dpop_error(&me(&app, &token, &proof).await, "invalid_dpop_proof");
}

#[tokio::test]
async fn alg_none_and_hmac_proofs_are_refused() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/me");
    for alg in ["none", "HS256", "es256", "ES384"] {
        let proof = key.proof("GET", &url, &token).unsigned(alg, b"x");
        assert_dpop_error(&me(&app, &token, &proof).await, "invalid_dpop_proof");
        // An HMAC "signed" with the public key's bytes fares no better.
        let mac_key = aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            key.jwk().to_string().as_bytes(),
        );
        let unsigned = key.proof("GET", &url, &token).unsigned(alg, b"x");
        let input = unsigned.rsplit_once('.').expect("three parts").0;
        let tag = aws_lc_rs::hmac::sign(&mac_key, input.as_bytes());
        let proof = format!(
            "{input}.{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, tag)
        );
        assert_dpop_error(&me(&app, &token, &proof).await, "invalid_dpop_proof");
    }
}

#[tokio::test]
async fn a_bound_token_is_never_a_bearer_token() {
    for mode in [DpopMode::Off, DpopMode::Allowed, DpopMode::Required] {
        let app = app(mode).await;
        let key = DpopKey::generate();
        let token = bound_token(&app, "alice", &key);
        let res = app.bearer(&token).get("/v1/me").send().await;
        assert_eq!(res.status(), 401, "{mode:?}");
        let all = challenges(&res);
        assert!(
            all.iter().any(|c| c.contains(r#"error="invalid_token""#)),
            "{mode:?}: {all:?}"
        );
    }
}

#[tokio::test]
async fn modes_decide_what_an_unbound_token_may_do() {
    // Allowed: plain bearer tokens keep working, and both challenges are offered.
    let allowed = app(DpopMode::Allowed).await;
    assert_eq!(allowed.caller("bob").me().await, 200);
    let res = allowed.anonymous().get("/v1/me").send().await;
    let all = challenges(&res);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[0].starts_with("Bearer resource_metadata="), "{all:?}");
    assert!(
        all[1].starts_with(r#"DPoP algs="ES256 RS256 PS256 EdDSA", resource_metadata="#),
        "{all:?}"
    );
    // An unbound token under the DPoP scheme is not a DPoP token.
    let unbound = allowed
        .issuer()
        .mint_access(&portcullis_dev_issuer::TokenSpec::new("bob").username("bob"));
    let proof = DpopKey::generate()
        .proof("GET", &allowed.url("/v1/me"), &unbound)
        .sign();
    assert_eq!(me(&allowed, &unbound, &proof).await.status(), 401);

    // Required: an unbound token is refused, and only the DPoP challenge is offered.
    let required = app(DpopMode::Required).await;
    let res = required.caller("bob").get("/v1/me").send().await;
    assert_eq!(res.status(), 401);
    let all = challenges(&res);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].starts_with(r#"DPoP error="invalid_token""#),
        "{all:?}"
    );
    let key = DpopKey::generate();
    let token = bound_token(&required, "carol", &key);
    let proof = key.proof("GET", &required.url("/v1/me"), &token).sign();
    assert_eq!(me(&required, &token, &proof).await.status(), 200);

    // Off: the DPoP scheme is not accepted at all, even with a good proof.
    let off = app(DpopMode::Off).await;
    let key = DpopKey::generate();
    let token = bound_token(&off, "dave", &key);
    let proof = key.proof("GET", &off.url("/v1/me"), &token).sign();
    let res = me(&off, &token, &proof).await;
    assert_eq!(res.status(), 401);
    assert_eq!(challenges(&res).len(), 1);
    assert!(challenges(&res)[0].starts_with("Bearer"));
}
