//! The DPoP decision for one request: the `Authorization` scheme, the token's binding and the
//! issuer's mode, then the proof, its time, nonce and replay checks.

use super::jwk::{ProofAlg, sha256_b64};
use super::mode::DpopMode;
use super::nonce::NonceKey;
use super::proof::{ProofTarget, check_signed};
use super::replay::ReplayCache;
use crate::clock::Clock;
use crate::jwt::Claims;
use crate::rejection::Rejection;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How the token was presented in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP`, with a proof in the `DPoP` header (RFC 9449).
    Dpop,
}

/// What a request brings for DPoP: its method, its path (as received, no query), and the
/// values of its `DPoP` headers (an unreadable value counts, and fails the proof).
#[derive(Debug, Clone)]
pub struct RequestProofs<'a> {
    /// The HTTP method, compared with the proof's `htm`.
    pub method: &'a str,
    /// The request path, appended to the resource URL and compared with the proof's `htu`.
    pub path: &'a str,
    /// Every `DPoP` header value; exactly one is accepted.
    pub proofs: Vec<&'a str>,
}

/// The settings of DPoP checks for one server.
#[derive(Debug)]
pub struct DpopConfig {
    /// The public URL of this resource (RFC 9728 `resource`): a proof's `htu` must be this
    /// URL's scheme, host and port, and its path followed by the request path. Behind a proxy
    /// it is the URL clients use, not the listen address.
    pub resource: Url,
    /// Algorithms a proof may be signed with.
    pub algorithms: Vec<ProofAlg>,
    /// How old a proof's `iat` may be.
    pub max_age: Duration,
    /// Clock skew tolerated on `iat`, both ways.
    pub leeway: Duration,
    /// Server nonces, when required.
    pub nonce: Option<NonceKey>,
}

/// Checks DPoP requests; shared by every request of a server.
#[derive(Debug)]
pub struct Dpop {
    config: DpopConfig,
    /// The resource URL without a trailing slash, to put request paths after.
    base: String,
    algs: String,
    replay: Arc<dyn ReplayCache>,
    clock: Arc<dyn Clock>,
}

/// Where a token keeps its confirmation claim: the parsed claims, and the compact ones the
/// verified-token cache holds.
pub trait Confirmation {
    /// The `cnf` claim, if the token has one.
    fn cnf(&self) -> Option<&Value>;
}

impl Confirmation for Claims {
    fn cnf(&self) -> Option<&Value> {
        self.raw.get("cnf")
    }
}

impl Confirmation for crate::verified::VerifiedClaims {
    fn cnf(&self) -> Option<&Value> {
        self.raw.get("cnf")
    }
}

/// The token's key binding (`cnf.jkt`, RFC 9449 section 6.1), if any. A `cnf` that is not an
/// object, or a `jkt` that is not a non-empty string, makes the token invalid.
pub fn confirmation(claims: &impl Confirmation) -> Result<Option<&str>, Rejection> {
    match claims.cnf() {
        None => Ok(None),
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            None => Ok(None),
            Some(Value::String(jkt)) if !jkt.is_empty() => Ok(Some(jkt)),
            Some(_) => Err(Rejection::BadClaims),
        },
        Some(_) => Err(Rejection::BadClaims),
    }
}

/// The binding rules that hold with or without DPoP support: a bound token is never a bearer
/// token, and the `DPoP` scheme needs DPoP turned on for the token's issuer.
pub fn without_dpop(scheme: Scheme, claims: &impl Confirmation) -> Result<(), Rejection> {
    match (scheme, confirmation(claims)?) {
        (Scheme::Bearer, Some(_)) => Err(Rejection::DpopBoundAsBearer),
        (Scheme::Bearer, None) => Ok(()),
        (Scheme::Dpop, _) => Err(Rejection::DpopNotEnabled),
    }
}

impl Dpop {
    /// The checker for `config`, remembering proof ids in `replay`, reading time from `clock`.
    pub fn new(config: DpopConfig, replay: Arc<dyn ReplayCache>, clock: Arc<dyn Clock>) -> Self {
        let base = config.resource.as_str().trim_end_matches('/').to_owned();
        let algs = config
            .algorithms
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            config,
            base,
            algs,
            replay,
            clock,
        }
    }

    /// The accepted algorithms, space-separated, for the `algs` challenge parameter.
    pub fn algs(&self) -> &str {
        &self.algs
    }

    /// The settings this checker was made with.
    pub fn config(&self) -> &DpopConfig {
        &self.config
    }

    /// A fresh nonce for the `DPoP-Nonce` header, when nonces are on.
    pub fn nonce(&self) -> Option<String> {
        let now = self.clock.unix_seconds();
        self.config.nonce.as_ref().map(|k| k.issue(now))
    }

    /// The URL a proof for `path` must name in `htu`.
    pub fn url_for(&self, path: &str) -> Result<Url, Rejection> {
        Url::parse(&format!("{}{path}", self.base)).map_err(|_| Rejection::DpopWrongUrl)
    }

    /// Checks a request whose token (`token`, `claims`) has passed verification, for an issuer
    /// in `mode`.
    pub async fn check(
        &self,
        mode: DpopMode,
        scheme: Scheme,
        token: &str,
        claims: &(impl Confirmation + Sync),
        request: &RequestProofs<'_>,
    ) -> Result<(), Rejection> {
        let jkt = confirmation(claims)?;
        match (scheme, jkt) {
            (Scheme::Bearer, Some(_)) => Err(Rejection::DpopBoundAsBearer),
            (Scheme::Bearer, None) if mode == DpopMode::Required => Err(Rejection::DpopRequired),
            (Scheme::Bearer, None) => Ok(()),
            (Scheme::Dpop, _) if mode == DpopMode::Off => Err(Rejection::DpopNotEnabled),
            (Scheme::Dpop, None) => Err(Rejection::DpopUnbound),
            // Boxed: the proof's state stays out of the future of every Bearer request.
            (Scheme::Dpop, Some(jkt)) => Box::pin(self.check_proof(token, jkt, request)).await,
        }
    }

    async fn check_proof(
        &self,
        token: &str,
        jkt: &str,
        request: &RequestProofs<'_>,
    ) -> Result<(), Rejection> {
        let proof = match request.proofs.as_slice() {
            [one] => *one,
            [] => return Err(Rejection::DpopProofMissing),
            _ => return Err(Rejection::DpopProofInvalid),
        };
        let url = self.url_for(request.path)?;
        let target = ProofTarget {
            method: request.method,
            url: &url,
            access_token: token,
        };
        let signed = check_signed(proof, &self.config.algorithms, &target)?;
        let now = self.clock.unix_seconds();
        let leeway = secs(self.config.leeway);
        let max_age = secs(self.config.max_age);
        if signed.iat > now.saturating_add(leeway)
            || signed.iat < now.saturating_sub(max_age).saturating_sub(leeway)
        {
            return Err(Rejection::DpopStale);
        }
        if signed.jkt != jkt {
            return Err(Rejection::DpopWrongKey);
        }
        if let Some(key) = &self.config.nonce
            && !signed.nonce.as_deref().is_some_and(|n| key.accepts(n, now))
        {
            return Err(Rejection::DpopNonceRequired);
        }
        // Last, so that a proof refused for another reason spends no entry. Past the window the
        // proof fails the `iat` check, so entries need not outlive it.
        let key = sha256_b64(&format!("{}.{}", signed.jkt, signed.jti));
        let ttl = self.config.max_age + self.config.leeway * 2;
        match self.replay.first_use(&key, ttl).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Rejection::DpopReplayed),
            Err(e) => {
                tracing::warn!(error = %e, "DPoP proof refused: replay cache unavailable");
                Err(Rejection::DpopReplayUnavailable)
            }
        }
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::dpop::MemoryReplay;
    use crate::jwt::Payload;
    use async_trait::async_trait;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::TimeZone;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const TOKEN: &str = "header.payload.signature";

    struct Key {
        pair: EcdsaKeyPair,
        jwk: Value,
    }

    impl Key {
        fn new() -> Self {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
            let p = pair.public_key().as_ref().to_vec();
            let jwk = json!({"kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&p[1..33]), "y": URL_SAFE_NO_PAD.encode(&p[33..])});
            Self { pair, jwk }
        }

        fn jkt(&self) -> String {
            sha256_b64(&format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                self.jwk["x"], self.jwk["y"]
            ))
        }

        fn proof(&self, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
            let mut header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
            let mut claims = json!({"jti": "j-1", "htm": "GET",
                "htu": "https://api.example.com/v1/me", "iat": NOW, "ath": sha256_b64(TOKEN)});
            edit(&mut header, &mut claims);
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let sig = self
                .pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .expect("sign");
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
        }
    }

    fn claims(jkt: Option<&str>) -> Claims {
        let mut c = json!({"iss": "https://issuer.example", "sub": "s", "exp": NOW + 600});
        if let Some(jkt) = jkt {
            c["cnf"] = json!({ "jkt": jkt });
        }
        Claims::from_payload(Payload::parse(c.to_string().as_bytes()).expect("payload"))
            .expect("claims")
    }

    fn dpop_with(nonce: Option<NonceKey>, replay: Arc<dyn ReplayCache>) -> Dpop {
        let clock = ManualClock::new(chrono::Utc.timestamp_opt(NOW, 0).single().expect("time"));
        Dpop::new(
            DpopConfig {
                resource: Url::parse("https://api.example.com/").expect("url"),
                algorithms: ProofAlg::ALL.to_vec(),
                max_age: Duration::from_secs(60),
                leeway: Duration::from_secs(5),
                nonce,
            },
            replay,
            Arc::new(clock),
        )
    }

    fn dpop() -> Dpop {
        dpop_with(
            None,
            Arc::new(MemoryReplay::new(Duration::from_secs(70), 100)),
        )
    }

    async fn check(
        d: &Dpop,
        mode: DpopMode,
        scheme: Scheme,
        c: &Claims,
        proofs: &[&str],
    ) -> Result<(), Rejection> {
        let request = RequestProofs {
            method: "GET",
            path: "/v1/me",
            proofs: proofs.to_vec(),
        };
        d.check(mode, scheme, TOKEN, c, &request).await
    }

    #[tokio::test]
    async fn a_good_proof_passes_once() {
        let (d, key) = (dpop(), Key::new());
        let c = claims(Some(&key.jkt()));
        let proof = key.proof(|_, _| {});
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&proof]).await,
            Ok(())
        );
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&proof]).await,
            Err(Rejection::DpopReplayed)
        );
    }

    #[tokio::test]
    async fn each_spoiled_member_has_its_reason() {
        let (d, key) = (dpop(), Key::new());
        let c = claims(Some(&key.jkt()));
        let cases: Vec<(String, Rejection)> = vec![
            (
                key.proof(|_, c| c["htm"] = json!("POST")),
                Rejection::DpopWrongMethod,
            ),
            (
                key.proof(|_, c| c["htu"] = json!("https://api.example.com/v1/orgs")),
                Rejection::DpopWrongUrl,
            ),
            (
                key.proof(|_, c| c["iat"] = json!(NOW - 66)),
                Rejection::DpopStale,
            ),
            (
                key.proof(|_, c| c["iat"] = json!(NOW + 6)),
                Rejection::DpopStale,
            ),
            (
                key.proof(|_, c| c["ath"] = json!(sha256_b64("other"))),
                Rejection::DpopWrongTokenHash,
            ),
            (
                key.proof(|h, _| h["typ"] = json!("jwt")),
                Rejection::DpopProofInvalid,
            ),
            (
                key.proof(|h, _| h["alg"] = json!("ES384")),
                Rejection::DpopProofInvalid,
            ),
            (
                key.proof(|h, _| h["jwk"]["d"] = json!("AAAA")),
                Rejection::DpopProofInvalid,
            ),
            (
                Key::new().proof(|h, _| h["jwk"] = key.jwk.clone()),
                Rejection::DpopProofInvalid,
            ),
            (Key::new().proof(|_, _| {}), Rejection::DpopWrongKey),
        ];
        for (i, (proof, why)) in cases.into_iter().enumerate() {
            assert_eq!(
                check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&proof]).await,
                Err(why),
                "case {i}"
            );
        }
        // Inside the window, leeway included, it passes.
        let edge = key.proof(|_, c| {
            c["iat"] = json!(NOW - 64);
            c["jti"] = json!("edge");
        });
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&edge]).await,
            Ok(())
        );
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[]).await,
            Err(Rejection::DpopProofMissing)
        );
        let (a, b) = (key.proof(|_, _| {}), key.proof(|_, _| {}));
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&a, &b]).await,
            Err(Rejection::DpopProofInvalid)
        );
    }

    #[tokio::test]
    async fn scheme_binding_and_mode_agree() {
        let (d, key) = (dpop(), Key::new());
        let bound = claims(Some(&key.jkt()));
        let unbound = claims(None);
        let proof = key.proof(|_, _| {});
        for mode in [DpopMode::Off, DpopMode::Allowed, DpopMode::Required] {
            assert_eq!(
                check(&d, mode, Scheme::Bearer, &bound, &[]).await,
                Err(Rejection::DpopBoundAsBearer),
                "{mode:?}"
            );
        }
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Bearer, &unbound, &[]).await,
            Ok(())
        );
        assert_eq!(
            check(&d, DpopMode::Off, Scheme::Bearer, &unbound, &[]).await,
            Ok(())
        );
        assert_eq!(
            check(&d, DpopMode::Required, Scheme::Bearer, &unbound, &[]).await,
            Err(Rejection::DpopRequired)
        );
        assert_eq!(
            check(&d, DpopMode::Off, Scheme::Dpop, &bound, &[&proof]).await,
            Err(Rejection::DpopNotEnabled)
        );
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &unbound, &[&proof]).await,
            Err(Rejection::DpopUnbound)
        );
        assert_eq!(
            without_dpop(Scheme::Bearer, &bound),
            Err(Rejection::DpopBoundAsBearer)
        );
        assert_eq!(
            without_dpop(Scheme::Dpop, &unbound),
            Err(Rejection::DpopNotEnabled)
        );
        assert_eq!(without_dpop(Scheme::Bearer, &unbound), Ok(()));
        let mut odd = claims(None);
        odd.raw.insert("cnf".into(), json!({"jkt": 5}));
        assert_eq!(confirmation(&odd), Err(Rejection::BadClaims));
        odd.raw.insert("cnf".into(), json!("jkt"));
        assert_eq!(confirmation(&odd), Err(Rejection::BadClaims));
    }

    #[tokio::test]
    async fn nonces_when_required() {
        let key = Key::new();
        let d = dpop_with(
            Some(NonceKey::new(&[1u8; 32], 60)),
            Arc::new(MemoryReplay::new(Duration::from_secs(70), 100)),
        );
        let c = claims(Some(&key.jkt()));
        let without = key.proof(|_, _| {});
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&without]).await,
            Err(Rejection::DpopNonceRequired)
        );
        let nonce = d.nonce().expect("nonces are on");
        let with = key.proof(|_, c| c["nonce"] = json!(nonce));
        assert_eq!(
            check(&d, DpopMode::Allowed, Scheme::Dpop, &c, &[&with]).await,
            Ok(())
        );
    }

    #[derive(Debug)]
    struct Down;

    #[async_trait]
    impl ReplayCache for Down {
        async fn first_use(
            &self,
            _: &str,
            _: Duration,
        ) -> Result<bool, crate::dpop::ReplayUnavailable> {
            Err(crate::dpop::ReplayUnavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn an_unavailable_replay_cache_refuses() {
        let key = Key::new();
        let d = dpop_with(None, Arc::new(Down));
        let c = claims(Some(&key.jkt()));
        assert_eq!(
            check(
                &d,
                DpopMode::Allowed,
                Scheme::Dpop,
                &c,
                &[&key.proof(|_, _| {})]
            )
            .await,
            Err(Rejection::DpopReplayUnavailable)
        );
    }
}
