//! One DPoP proof (RFC 9449, section 4): a compact JWS signed with the key in its own header,
//! checked against the request it came with. Nothing in it is read before its signature holds.

use super::jwk::{ProofAlg, ProofKey, sha256_b64};
use crate::jwt::{UniqueMap, split};
use crate::rejection::Rejection;
use serde_json::{Map, Value};
use url::Url;

/// Proofs larger than this are refused before decoding (an RSA-4096 key fits easily).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Longest `jti` accepted; it becomes part of a replay-cache key.
pub const MAX_JTI_BYTES: usize = 256;

/// What a proof must match: the request as the server sees it behind its public URL.
#[derive(Debug, Clone, Copy)]
pub struct ProofTarget<'a> {
    /// The request method, compared exactly (`GET`, `POST`, ...).
    pub method: &'a str,
    /// The request URL: the public resource URL and the request path, no query.
    pub url: &'a Url,
    /// The access token the proof must be bound to (`ath`).
    pub access_token: &'a str,
}

/// A proof whose signature holds and whose claims match the request, before the time, nonce
/// and replay checks that need the server's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedProof {
    /// The algorithm the proof was signed with.
    pub alg: ProofAlg,
    /// RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    /// The proof's id, accepted once.
    pub jti: String,
    /// When the proof was made (seconds since the epoch).
    pub iat: i64,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
}

/// Parses `proof`, verifies its signature with its own key (for an algorithm of `allowed`),
/// and checks `htm`, `htu` and `ath` against `target`.
pub fn check_signed(
    proof: &str,
    allowed: &[ProofAlg],
    target: &ProofTarget<'_>,
) -> Result<SignedProof, Rejection> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(Rejection::DpopProofInvalid);
    }
    let parts = split(proof).map_err(|_| Rejection::DpopProofInvalid)?;
    let header = UniqueMap::parse(&parts.header)
        .map_err(|_| Rejection::DpopProofInvalid)?
        .0;
    match header.get("typ") {
        Some(Value::String(t)) if t.eq_ignore_ascii_case("dpop+jwt") => {}
        _ => return Err(Rejection::DpopProofInvalid),
    }
    // The key is the one in `jwk`, nowhere else; `crit` names extensions nobody here knows.
    if ["jku", "x5u", "x5c", "crit"]
        .iter()
        .any(|m| header.contains_key(*m))
    {
        return Err(Rejection::DpopProofInvalid);
    }
    let alg = match header.get("alg") {
        Some(Value::String(name)) => ProofAlg::from_name(name)
            .filter(|a| allowed.contains(a))
            .ok_or(Rejection::DpopProofInvalid)?,
        _ => return Err(Rejection::DpopProofInvalid),
    };
    let key = match header.get("jwk") {
        Some(Value::Object(jwk)) => ProofKey::parse(jwk, alg)?,
        _ => return Err(Rejection::DpopProofInvalid),
    };
    if !key.verify(parts.signing_input, &parts.signature) {
        return Err(Rejection::DpopProofInvalid);
    }
    // From here on the claims are the key holder's word.
    let claims = UniqueMap::parse(&parts.payload)
        .map_err(|_| Rejection::DpopProofInvalid)?
        .0;
    let jti = string(&claims, "jti")?;
    if jti.len() > MAX_JTI_BYTES {
        return Err(Rejection::DpopProofInvalid);
    }
    let iat = match claims.get("iat") {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or(Rejection::DpopProofInvalid)?,
        _ => return Err(Rejection::DpopProofInvalid),
    };
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(Rejection::DpopProofInvalid),
    };
    if string(&claims, "htm")? != target.method {
        return Err(Rejection::DpopWrongMethod);
    }
    if !same_url(string(&claims, "htu")?, target.url) {
        return Err(Rejection::DpopWrongUrl);
    }
    // At a resource server the proof must name the token it travels with.
    match claims.get("ath") {
        Some(Value::String(ath)) if *ath == sha256_b64(target.access_token) => {}
        Some(Value::String(_)) | None => return Err(Rejection::DpopWrongTokenHash),
        Some(_) => return Err(Rejection::DpopProofInvalid),
    }
    Ok(SignedProof {
        alg,
        jkt: key.thumbprint,
        jti: jti.to_owned(),
        iat,
        nonce,
    })
}

fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, Rejection> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(Rejection::DpopProofInvalid),
    }
}

/// `htu` compared as RFC 9449 section 4.3 asks: both sides parsed and normalised (scheme and
/// host case, default port, dot segments, per RFC 3986 sections 6.2.2 and 6.2.3, as the WHATWG
/// parser does), then compared without query and fragment.
pub fn same_url(htu: &str, expected: &Url) -> bool {
    let Ok(mut got) = Url::parse(htu) else {
        return false;
    };
    if !matches!(got.scheme(), "http" | "https") {
        return false;
    }
    got.set_query(None);
    got.set_fragment(None);
    let mut want = expected.clone();
    want.set_query(None);
    want.set_fragment(None);
    got.as_str() == want.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_after_normalisation_without_query() {
        let want = Url::parse("https://api.example.com/v1/me").expect("url");
        for same in [
            "https://api.example.com/v1/me",
            "HTTPS://API.example.COM:443/v1/me",
            "https://api.example.com/v1/./me",
            "https://api.example.com/v1/me?x=1",
            "https://api.example.com/v1/me#frag",
        ] {
            assert!(same_url(same, &want), "{same}");
        }
        for other in [
            "http://api.example.com/v1/me",
            "https://api.example.com:8443/v1/me",
            "https://api.example.com/v1/me/",
            "https://api.example.com/v1/orgs",
            "https://evil.example.com/v1/me",
            "wss://api.example.com/v1/me",
            "/v1/me",
            "",
        ] {
            assert!(!same_url(other, &want), "{other}");
        }
    }
}
