//! The JOSE header: which key and algorithm the token claims, checked before any key lookup.

use crate::jwt::json::UniqueMap;
use crate::keys::Alg;
use crate::rejection::Rejection;
use serde_json::Value;

/// Longest `kid` accepted; real issuers use short ids (Cognito: 44 characters of base64).
pub const MAX_KID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
/// The JOSE header members the verifier uses, after its rules.
pub struct Header {
    /// The signature algorithm.
    pub alg: Alg,
    /// The key id.
    pub kid: String,
    /// A `nonce` member: no standard JWS has one; Microsoft Graph tokens do, and their
    /// signature covers a hash of it rather than the value sent, so the provider decides.
    pub nonce: bool,
}

/// Members that would let the token choose its own verification key or change how it must be
/// processed. A verifier that honours any of them can be handed an attacker's key.
const FORBIDDEN: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];
/// Members that mean "this is not a plain signed JWT" (JWE, compressed or nested payloads).
const UNSUPPORTED: [&str; 4] = ["enc", "zip", "cty", "b64"];

/// Parses and checks a decoded header: JSON object, unique members, `alg`, `kid`, `typ`, and no forbidden member.
pub fn parse_header(bytes: &[u8]) -> Result<Header, Rejection> {
    let map = UniqueMap::parse(bytes)?.0;
    if FORBIDDEN.iter().any(|k| map.contains_key(*k)) {
        return Err(Rejection::ForbiddenHeader);
    }
    if UNSUPPORTED.iter().any(|k| map.contains_key(*k)) {
        return Err(Rejection::BadHeader);
    }
    let alg = match map.get("alg") {
        Some(Value::String(name)) => Alg::from_name(name).ok_or(Rejection::AlgNotAllowed)?,
        _ => return Err(Rejection::BadHeader),
    };
    match map.get("typ") {
        None => {}
        Some(Value::String(t))
            if ["jwt", "at+jwt", "application/at+jwt"]
                .contains(&t.to_ascii_lowercase().as_str()) => {}
        Some(_) => return Err(Rejection::BadHeader),
    }
    let kid = match map.get("kid") {
        Some(Value::String(k)) if plain_kid(k) => k.clone(),
        _ => return Err(Rejection::BadHeader),
    };
    Ok(Header {
        alg,
        kid,
        nonce: map.contains_key("nonce"),
    })
}

/// Key ids are looked up, logged and used as metric-free cache keys; keeping them short and
/// printable keeps hostile ids out of all three.
fn plain_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+/=:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Header, Rejection> {
        parse_header(s.as_bytes())
    }

    #[test]
    fn plain_headers_parse() {
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":"abc+/=","typ":"JWT"}"#),
            Ok(Header {
                alg: Alg::Rs256,
                kid: "abc+/=".into(),
                nonce: false,
            })
        );
        assert!(parse(r#"{"alg":"ES256","kid":"k","typ":"at+JWT"}"#).is_ok());
    }

    #[test]
    fn alg_none_and_hmac_are_not_allowed() {
        for alg in ["none", "NONE", "nOnE", "HS256", "HS512", "rs256"] {
            let h = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            assert_eq!(parse(&h), Err(Rejection::AlgNotAllowed), "{alg}");
        }
        assert_eq!(
            parse(r#"{"alg":null,"kid":"k"}"#),
            Err(Rejection::BadHeader)
        );
        assert_eq!(parse(r#"{"kid":"k"}"#), Err(Rejection::BadHeader));
    }

    #[test]
    fn key_choosing_members_are_forbidden() {
        for m in ["jku", "x5u", "jwk", "x5c", "crit"] {
            let h = format!(r#"{{"alg":"RS256","kid":"k","{m}":"x"}}"#);
            assert_eq!(parse(&h), Err(Rejection::ForbiddenHeader), "{m}");
        }
    }

    #[test]
    fn kid_and_typ_rules() {
        assert_eq!(parse(r#"{"alg":"RS256"}"#), Err(Rejection::BadHeader));
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":""}"#),
            Err(Rejection::BadHeader)
        );
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":5}"#),
            Err(Rejection::BadHeader)
        );
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":"../../etc"}"#),
            Ok(Header {
                alg: Alg::Rs256,
                kid: "../../etc".into(),
                nonce: false,
            })
        );
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":"a b"}"#),
            Err(Rejection::BadHeader)
        );
        let long = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(129));
        assert_eq!(parse(&long), Err(Rejection::BadHeader));
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":"k","typ":"JWE"}"#),
            Err(Rejection::BadHeader)
        );
        assert_eq!(
            parse(r#"{"alg":"RS256","kid":"k","enc":"A256GCM"}"#),
            Err(Rejection::BadHeader)
        );
    }
}
