//! The one-pass payload parser (`Payload` and `Claims::from_payload`) against a reference: the
//! straightforward parser it replaced, kept here as the oracle. It read the payload into a
//! JSON map with unique member names and typed the claims out of it. For any claims set, both
//! must agree on the issuer read before the signature check, and on the claims or the
//! rejection after it.

use portcullis_auth::Rejection;
use portcullis_auth::jwt::{Claims, Payload, UniqueMap};
use proptest::prelude::*;
use serde_json::{Map, Value};

mod reference {
    use super::*;

    pub fn issuer(m: &UniqueMap) -> Result<&str, Rejection> {
        match m.0.get("iss") {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(Rejection::BadClaims),
            None => Err(Rejection::UnknownIssuer),
        }
    }

    pub fn claims(map: UniqueMap) -> Result<Claims, Rejection> {
        let mut m = map.0;
        let exp = match m.remove("exp") {
            None => return Err(Rejection::MissingExp),
            Some(v) => date(&v)?,
        };
        let username = match take(&mut m, "username", string)? {
            Some(u) => Some(u),
            None => take(&mut m, "cognito:username", string)?,
        };
        let scopes = match take(&mut m, "scope", string)? {
            Some(s) => s
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => take(&mut m, "scp", list)?.unwrap_or_default(),
        };
        let iss = nonempty(take(&mut m, "iss", string)?)?;
        let sub = nonempty(take(&mut m, "sub", string)?)?;
        if sub.len() > portcullis_auth::jwt::MAX_SUB_BYTES {
            return Err(Rejection::BadClaims);
        }
        Ok(Claims {
            iss,
            sub,
            exp,
            nbf: take(&mut m, "nbf", |v| date(&v))?,
            iat: take(&mut m, "iat", |v| date(&v))?,
            auth_time: take(&mut m, "auth_time", |v| date(&v))?,
            token_use: take(&mut m, "token_use", string)?,
            client_id: take(&mut m, "client_id", string)?,
            aud: take(&mut m, "aud", |v| match v {
                Value::String(s) => Ok(vec![s]),
                other => list(other),
            })?
            .unwrap_or_default(),
            scopes,
            jti: take(&mut m, "jti", string)?,
            origin_jti: take(&mut m, "origin_jti", string)?,
            username,
            email: take(&mut m, "email", string)?,
            amr: take(&mut m, "amr", list)?.unwrap_or_default(),
            raw: m,
        })
    }

    fn take<T>(
        m: &mut Map<String, Value>,
        name: &str,
        f: impl Fn(Value) -> Result<T, Rejection>,
    ) -> Result<Option<T>, Rejection> {
        m.remove(name).map(f).transpose()
    }

    fn nonempty(s: Option<String>) -> Result<String, Rejection> {
        s.filter(|s| !s.is_empty()).ok_or(Rejection::BadClaims)
    }

    fn string(v: Value) -> Result<String, Rejection> {
        match v {
            Value::String(s) => Ok(s),
            _ => Err(Rejection::BadClaims),
        }
    }

    fn list(v: Value) -> Result<Vec<String>, Rejection> {
        match v {
            Value::Array(items) => items.into_iter().map(string).collect(),
            _ => Err(Rejection::BadClaims),
        }
    }

    fn date(v: &Value) -> Result<i64, Rejection> {
        const MAX: f64 = 253_402_300_799.0;
        if let Some(i) = v.as_i64() {
            return if (0..=MAX as i64).contains(&i) {
                Ok(i)
            } else {
                Err(Rejection::BadClaims)
            };
        }
        match v.as_f64() {
            Some(f) if f.is_finite() && (0.0..=MAX).contains(&f) => Ok(f.trunc() as i64),
            _ => Err(Rejection::BadClaims),
        }
    }
}

/// What each parser concludes from one payload.
fn both(text: &str) -> (String, String) {
    both_bytes(text.as_bytes())
}

fn both_bytes(text: &[u8]) -> (String, String) {
    let old = match UniqueMap::parse(text) {
        Err(r) => format!("{r:?}"),
        Ok(m) => {
            let iss = format!("{:?}", reference::issuer(&m));
            format!("{iss} / {:?}", reference::claims(m))
        }
    };
    let new = match Payload::parse(text) {
        Err(r) => format!("{r:?}"),
        Ok(p) => {
            let iss = format!("{:?}", p.issuer());
            format!("{iss} / {:?}", Claims::from_payload(p))
        }
    };
    (old, new)
}

const NAMES: [&str; 21] = [
    "iss",
    "sub",
    "exp",
    "nbf",
    "iat",
    "auth_time",
    "token_use",
    "client_id",
    "aud",
    "scope",
    "scp",
    "jti",
    "origin_jti",
    "username",
    "cognito:username",
    "email",
    "amr",
    "cognito:groups",
    "custom:tier",
    "i\\u0073s",
    "e\\u0078p",
];

/// JSON text of a value, including the shapes claims get wrong in practice.
fn value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("\"\"".to_owned()),
        "[a-z :/.]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just("\"with \\\"escapes\\\" \\u00e9\"".to_owned()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|u| u.to_string()),
        (0u32..2_000_000_000).prop_map(|i| i.to_string()),
        (0.0f64..3e9).prop_map(|f| format!("{f:.3}")),
        Just("1e300".to_owned()),
        Just("-0.5".to_owned()),
        Just("2.5e9".to_owned()),
        Just("18446744073709551615".to_owned()),
        // Malformed only where a parser actually checks: a lone surrogate, a number too large.
        Just("\"\\ud800\"".to_owned()),
        Just("1e400".to_owned()),
    ];
    scalar.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-c]|\\\\u0061|\\\\ud800", inner), 0..3).prop_map(|v| {
                let members: Vec<String> =
                    v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

fn payload() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(NAMES.to_vec()), value()), 0..12).prop_map(
        |members| {
            let members: Vec<String> = members
                .into_iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            format!("{{{}}}", members.join(","))
        },
    )
}

/// A well-formed access token's claims with one member's value replaced.
fn mostly_valid() -> impl Strategy<Value = String> {
    (prop::sample::select(NAMES[..17].to_vec()), value()).prop_map(|(name, v)| {
        let mut members = vec![
            ("iss", "\"https://issuer.example\"".to_owned()),
            ("sub", "\"user-1\"".to_owned()),
            ("exp", "2000000000".to_owned()),
            ("iat", "1999999000".to_owned()),
            ("token_use", "\"access\"".to_owned()),
            ("client_id", "\"client\"".to_owned()),
            ("scope", "\"openid read\"".to_owned()),
            ("jti", "\"j-1\"".to_owned()),
            ("username", "\"alice\"".to_owned()),
            ("cognito:groups", "[\"admins\"]".to_owned()),
        ];
        match members.iter_mut().find(|(k, _)| *k == name) {
            Some(m) => m.1 = v,
            None => members.push((name, v)),
        }
        let members: Vec<String> = members
            .into_iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn agrees_with_the_reference_on_arbitrary_claims_sets(text in payload()) {
        let (old, new) = both(&text);
        prop_assert_eq!(old, new, "payload: {}", text);
    }

    #[test]
    fn agrees_with_the_reference_on_one_bad_claim_in_a_valid_set(text in mostly_valid()) {
        let (old, new) = both(&text);
        prop_assert_eq!(old, new, "payload: {}", text);
    }
}

#[test]
fn the_reference_and_the_parser_agree_on_edge_cases() {
    for text in [
        "{}",
        "[]",
        "{} x",
        r#"{"iss":"a","iss":"b"}"#,
        r#"{"iss":"a","i\u0073s":"b"}"#,
        r#"{"x":1,"x":2}"#,
        r#"{"exp":1,"iss":"i","sub":"s","scope":"a","scp":["b"]}"#,
        r#"{"exp":1,"iss":"i","sub":"s","scp":["b", 1]}"#,
        r#"{"exp":1,"iss":"i","sub":"s","username":"u","cognito:username":5}"#,
        r#"{"exp":1,"iss":"i","sub":"s","cognito:username":"cu"}"#,
        r#"{"exp":9223372036854775808,"iss":"i","sub":"s"}"#,
        r#"{"exp":1.9e9,"iss":"i","sub":"s","aud":"a"}"#,
        r#"{"exp":1,"iss":"i","sub":"s","aud":{"a":1,"a":2}}"#,
        r#"{"exp":1,"iss":"i","sub":"s","custom":{"a":1,"a":2}}"#,
        // JSON that is only malformed deep inside a typed claim's unusable value: both
        // parsers must refuse it as malformed, not skip over it.
        r#"{"iss":"i","aud":{"a":"\ud800"}}"#,
        r#"{"iss":"i","amr":[1,1e400]}"#,
        r#"{"iss":"i","amr":[1,"\ud800"]}"#,
        r#"{"iss":"i","aud":{"a":1e400}}"#,
        r#"{"iss":"i","aud":{"\ud800":1}}"#,
        r#"{"iss":"i","scope":"\u00e9 \t"}"#,
        r#"{"exp":-0,"iss":"i","sub":"s"}"#,
        r#"{"exp":-0.0,"iss":"i","sub":"s"}"#,
        r#"{"exp":1e308,"iss":"i","sub":"s"}"#,
    ] {
        let (old, new) = both(text);
        assert_eq!(old, new, "payload: {text}");
    }
    // Nesting past serde_json's depth limit, inside a typed claim and inside another one.
    for claim in ["aud", "amr", "custom"] {
        let deep = format!(
            r#"{{"iss":"i","{claim}":[1,{}{}]}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let (old, new) = both(&deep);
        assert_eq!(old, new, "{claim} nested 200 deep");
        assert_eq!(new, "Malformed");
    }
    // Bytes that are not UTF-8, in a string inside a typed claim's unusable value.
    for prefix in [
        &br#"{"iss":"i","aud":{"a":""#[..],
        br#"{"iss":"i","amr":[1,""#,
    ] {
        let mut text = prefix.to_vec();
        text.extend_from_slice(b"\xff\xfe\"");
        text.extend_from_slice(if prefix.ends_with(b"\"a\":\"") {
            b"}}"
        } else {
            b"]}"
        });
        let (old, new) = both_bytes(&text);
        assert_eq!(old, new, "{}", String::from_utf8_lossy(&text));
        assert_eq!(new, "Malformed");
    }
}
