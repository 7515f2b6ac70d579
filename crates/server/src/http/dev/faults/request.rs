//! A fault request as the page's forms and `portcullis dev-fault` send it: flat fields
//! (`fault`, `kind`, `count`, `seconds`, `sub`), read the same way from a form or a JSON object.

use crate::http::error::ApiError;
use crate::http::problem::FieldError;
use portcullis_dev_issuer::{Mode, TokenFault};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Most tokens one request may break.
pub const MAX_COUNT: u32 = 100;
/// Longest JWKS outage one request may switch on.
pub const MAX_SECONDS: u64 = 3600;
const FIELDS: [&str; 6] = ["fault", "kind", "count", "seconds", "sub", "csrf"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    RotateKey,
    PublishKey,
    Tokens { fault: TokenFault, count: u32 },
    Jwks { mode: Mode, duration: Duration },
    JwksRestore,
    RevokePersona { sub: String },
    Clear,
}

/// The fields of a form body; a name given twice is refused rather than guessed at.
pub fn form_fields(body: &[u8]) -> Result<HashMap<String, String>, ApiError> {
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if fields
            .insert(name.to_string(), value.into_owned())
            .is_some()
        {
            return Err(ApiError::Malformed(vec![FieldError::parameter(
                name.to_string(),
                "is given more than once",
            )]));
        }
    }
    Ok(fields)
}

/// The fields of a JSON object body: strings and non-negative integers.
pub fn json_fields(body: &[u8]) -> Result<HashMap<String, String>, ApiError> {
    let whole = |detail| vec![FieldError::pointer("", detail)];
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::Malformed(whole("is not valid JSON")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::Invalid(whole("must be a JSON object")));
    };
    let mut fields = HashMap::new();
    for (name, value) in map {
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) if n.is_u64() => n.to_string(),
            _ => {
                return Err(ApiError::Invalid(vec![FieldError::pointer(
                    format!("/{name}"),
                    "must be a string or a non-negative integer",
                )]));
            }
        };
        fields.insert(name, text);
    }
    Ok(fields)
}

pub fn invalid(name: &str, rule: &'static str) -> ApiError {
    ApiError::Invalid(vec![FieldError::pointer(format!("/{name}"), rule)])
}

fn number(
    fields: &HashMap<String, String>,
    name: &str,
    max: u64,
    rule: &'static str,
) -> Result<u64, ApiError> {
    match fields.get(name) {
        None => Err(invalid(name, rule)),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(invalid(name, rule)),
        },
    }
}

/// Reads the fault the fields ask for; every field that does not fit is named with its rule.
pub fn parse(fields: &HashMap<String, String>) -> Result<Fault, ApiError> {
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(unknown, "is not a field of a fault request"));
    }
    let kind = fields.get("kind").map(|k| k.trim());
    match fields.get("fault").map(|f| f.trim()) {
        Some("rotate-key") => Ok(Fault::RotateKey),
        Some("publish-key") => Ok(Fault::PublishKey),
        Some("clear") => Ok(Fault::Clear),
        Some("tokens") => {
            let fault = kind
                .and_then(|k| k.parse::<TokenFault>().ok())
                .ok_or_else(|| invalid("kind", "is expired, not-yet-valid or wrong-audience"))?;
            let count = number(
                fields,
                "count",
                u64::from(MAX_COUNT),
                "is a whole number from 1 to 100",
            )?;
            Ok(Fault::Tokens {
                fault,
                count: u32::try_from(count).unwrap_or(MAX_COUNT),
            })
        }
        Some("jwks") => {
            let mode = match kind {
                Some("unavailable" | "503") => Mode::Fail,
                Some("hang") => Mode::Hang,
                Some("ok" | "answer") => return Ok(Fault::JwksRestore),
                _ => return Err(invalid("kind", "is unavailable, hang or ok")),
            };
            let seconds = number(
                fields,
                "seconds",
                MAX_SECONDS,
                "is a whole number of seconds from 1 to 3600",
            )?;
            Ok(Fault::Jwks {
                mode,
                duration: Duration::from_secs(seconds),
            })
        }
        Some("revoke-persona") => {
            let sub = fields
                .get("sub")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty() && s.len() <= 256)
                .ok_or_else(|| invalid("sub", "is the persona's sub, 1 to 256 characters"))?;
            Ok(Fault::RevokePersona {
                sub: sub.to_owned(),
            })
        }
        _ => Err(invalid(
            "fault",
            "is rotate-key, publish-key, tokens, jwks, revoke-persona or clear",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_each_fault() {
        assert_eq!(
            parse(&fields(&[("fault", "rotate-key")])).ok(),
            Some(Fault::RotateKey)
        );
        assert_eq!(
            parse(&fields(&[
                ("fault", "tokens"),
                ("kind", "expired"),
                ("count", "3")
            ]))
            .ok(),
            Some(Fault::Tokens {
                fault: TokenFault::Expired,
                count: 3
            })
        );
        assert_eq!(
            parse(&fields(&[
                ("fault", "jwks"),
                ("kind", "hang"),
                ("seconds", "9")
            ]))
            .ok(),
            Some(Fault::Jwks {
                mode: Mode::Hang,
                duration: Duration::from_secs(9)
            })
        );
        assert_eq!(
            parse(&fields(&[
                ("fault", "revoke-persona"),
                ("sub", "dev-member")
            ]))
            .ok(),
            Some(Fault::RevokePersona {
                sub: "dev-member".into()
            })
        );
    }

    #[test]
    fn refuses_what_does_not_fit() {
        for bad in [
            fields(&[]),
            fields(&[("fault", "explode")]),
            fields(&[("fault", "rotate-key"), ("extra", "1")]),
            fields(&[("fault", "tokens"), ("kind", "expired"), ("count", "0")]),
            fields(&[("fault", "tokens"), ("kind", "expired"), ("count", "101")]),
            fields(&[("fault", "tokens"), ("kind", "stale"), ("count", "1")]),
            fields(&[("fault", "tokens"), ("kind", "expired")]),
            fields(&[("fault", "jwks"), ("kind", "hang"), ("seconds", "-1")]),
            fields(&[("fault", "jwks"), ("kind", "hang"), ("seconds", "3601")]),
            fields(&[("fault", "revoke-persona"), ("sub", " ")]),
        ] {
            assert!(parse(&bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_repeated_form_field_is_refused() {
        assert!(form_fields(b"fault=clear&fault=rotate-key").is_err());
        assert!(json_fields(b"[1]").is_err());
        assert!(json_fields(b"{\"count\": -1}").is_err());
    }
}
