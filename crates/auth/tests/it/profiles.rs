//! What every profile's tests share: an issuer on a loopback port at the path its provider
//! uses, a verifier built from profiles the way a user builds one, and the hostile tokens every
//! profile must refuse whatever its own rules (the same set `provider_rules` runs against the
//! plain Cognito provider).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_auth::jwks::JwksConfig;
use portcullis_auth::provider::Profile;
use portcullis_auth::{Rejection, Verified, Verifier};
use portcullis_dev_issuer::{ControlledIssuer, DevIssuer, TokenSpec};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub async fn idp(path: &str) -> ControlledIssuer {
    ControlledIssuer::start_at(path).await.expect("issuer")
}

pub fn config() -> JwksConfig {
    JwksConfig {
        fetch_timeout: Duration::from_millis(1500),
        ..JwksConfig::default()
    }
}

/// A verifier for `profiles`, with loopback issuers allowed and the keys loaded.
pub async fn verifier(profiles: impl IntoIterator<Item = Profile>) -> Verifier {
    let mut b = Verifier::builder()
        .allow_loopback_http(true)
        .jwks_config(config());
    for p in profiles {
        b = b.profile(p);
    }
    let v = b.build().await.expect("verifier builds");
    assert!(v.keys_ready(), "keys loaded by build");
    v
}

pub async fn verify(v: &Verifier, token: &str) -> Result<Arc<Verified>, Rejection> {
    v.verify(token).await
}

pub async fn outcome(v: &Verifier, token: &str) -> Result<(), Rejection> {
    v.verify(token).await.map(|_| ())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The generic hostile set, built from a `spec` the profile accepts (checked first).
pub async fn refuses_the_generic_hostile_set(v: &Verifier, issuer: &DevIssuer, spec: &TokenSpec) {
    let good = issuer.mint_access(spec);
    assert_eq!(outcome(v, &good).await, Ok(()), "the base token is valid");
    let claims = Value::Object(issuer.access_claims(spec));
    let kid = issuer.current_kid();
    let header = json!({"alg": "RS256", "kid": kid});

    for alg in ["none", "None", "HS256"] {
        let t = issuer.sign_raw(&json!({"alg": alg, "kid": kid}), &claims);
        assert_eq!(outcome(v, &t).await, Err(Rejection::AlgNotAllowed), "{alg}");
    }
    let es = issuer.sign_raw(&json!({"alg": "ES256", "kid": kid}), &claims);
    assert_eq!(outcome(v, &es).await, Err(Rejection::AlgNotAllowed));

    // HS256 keyed with the issuer's public key (the key-confusion attack).
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        issuer.current_public_key_pem().as_bytes(),
    );
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    let hs = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    assert_eq!(outcome(v, &hs).await, Err(Rejection::AlgNotAllowed));

    for member in ["jku", "x5u", "jwk", "x5c", "crit"] {
        let mut h = header.clone();
        h[member] = json!("https://evil.example/keys");
        let t = issuer.sign_raw(&h, &claims);
        assert_eq!(
            outcome(v, &t).await,
            Err(Rejection::ForbiddenHeader),
            "{member}"
        );
    }

    let expired = issuer.mint_access(&spec.clone().issued_at(now() - 7200));
    assert_eq!(outcome(v, &expired).await, Err(Rejection::Expired));
    let no_exp = issuer.mint_access(&spec.clone().omit("exp"));
    assert_eq!(outcome(v, &no_exp).await, Err(Rejection::MissingExp));
    let long = issuer.mint_access(&spec.clone().ttl(Duration::from_secs(48 * 3600)));
    assert_eq!(outcome(v, &long).await, Err(Rejection::LifetimeTooLong));
    let string_exp =
        issuer.mint_access(&spec.clone().claim("exp", json!((now() + 600).to_string())));
    assert_eq!(outcome(v, &string_exp).await, Err(Rejection::BadClaims));

    let (head, sig) = good.rsplit_once('.').expect("three parts");
    let mut sig = URL_SAFE_NO_PAD.decode(sig).expect("base64url");
    sig[0] ^= 1;
    let flipped = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&sig));
    assert_eq!(outcome(v, &flipped).await, Err(Rejection::BadSignature));

    // The issuer's name and kid, another key.
    let forger = DevIssuer::ephemeral(issuer.issuer_url());
    let forged = forger.sign_raw(&header, &claims);
    assert_eq!(outcome(v, &forged).await, Err(Rejection::BadSignature));

    let mut elsewhere = claims.clone();
    elsewhere["iss"] = json!("https://evil.example/");
    let t = issuer.sign_raw(&header, &elsewhere);
    assert_eq!(outcome(v, &t).await, Err(Rejection::UnknownIssuer));
}
