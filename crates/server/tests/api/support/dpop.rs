//! A DPoP client for tests: an EC P-256 key (aws-lc-rs), its RFC 7638 thumbprint, and proofs
//! built member by member so that each test can spoil exactly one of them.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

pub struct DpopKey {
    pair: EcdsaKeyPair,
    x: String,
    y: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_b64(text: &str) -> String {
    b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl DpopKey {
    pub fn generate() -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        let point = pair.public_key().as_ref().to_vec();
        assert_eq!(point.len(), 65, "uncompressed P-256 point");
        Self {
            x: b64(&point[1..33]),
            y: b64(&point[33..]),
            pair,
        }
    }

    pub fn jwk(&self) -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y})
    }

    /// The RFC 7638 thumbprint: what a bound token's `cnf.jkt` names.
    pub fn jkt(&self) -> String {
        sha256_b64(&format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.x, self.y
        ))
    }

    /// A valid proof for `method` `url` carrying `token`: fresh `jti`, `iat` now.
    pub fn proof(&self, method: &str, url: &str, token: &str) -> Proof<'_> {
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(uuid::Uuid::now_v7().to_string()));
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(url));
        claims.insert("iat".into(), json!(now()));
        claims.insert("ath".into(), json!(sha256_b64(token)));
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("alg".into(), json!("ES256"));
        header.insert("jwk".into(), self.jwk());
        Proof {
            key: self,
            header,
            claims,
        }
    }
}

pub struct Proof<'a> {
    key: &'a DpopKey,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl Proof<'_> {
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    /// Signed with the key (ES256), whatever the header says.
    pub fn sign(self) -> String {
        let input = format!(
            "{}.{}",
            b64(Value::Object(self.header).to_string().as_bytes()),
            b64(Value::Object(self.claims).to_string().as_bytes())
        );
        let sig = self
            .key
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", b64(sig.as_ref()))
    }

    /// Unsigned, with `alg` none (an empty signature part cannot even be split, so a single
    /// byte stands in for it).
    pub fn unsigned(mut self, alg: &str, signature: &[u8]) -> String {
        self.header.insert("alg".into(), json!(alg));
        format!(
            "{}.{}.{}",
            b64(Value::Object(self.header).to_string().as_bytes()),
            b64(Value::Object(self.claims).to_string().as_bytes()),
            b64(signature)
        )
    }
}
