//! Reading an introspection answer (RFC 7662, section 2.2) into the claims the JWT path
//! would have read from a token, so that both go through the same checks.

use super::observer::CallOutcome;
use crate::jwt::{Payload, Slot};
use crate::rejection::Rejection;
use serde_json::Value;

/// What the issuer said about the token.
#[derive(Debug)]
pub(super) enum Reading {
    /// `active: true`, with the answer's members as a token payload (`active` and
    /// `token_type` taken out).
    Active {
        payload: Box<Payload>,
        token_type: Option<Value>,
    },
    /// `active: false`: the token is expired, revoked, unknown, or not the issuer's.
    Inactive,
}

/// Anything but a JSON object with a boolean `active` and no member named twice is no answer,
/// and the token is neither accepted nor refused on it.
pub(super) fn read(body: &[u8]) -> Result<Reading, CallOutcome> {
    let mut payload = Payload::parse(body).map_err(|_| CallOutcome::BadResponse)?;
    match payload.raw.remove("active") {
        Some(Value::Bool(true)) => {
            let token_type = payload.raw.remove("token_type");
            Ok(Reading::Active {
                payload: Box::new(payload),
                token_type,
            })
        }
        Some(Value::Bool(false)) => Ok(Reading::Inactive),
        _ => Err(CallOutcome::BadResponse),
    }
}

/// `token_type` is optional; when present it must name an access token usable as a bearer
/// token. A refresh token is "active" too at most issuers, and must not open the API.
pub(super) fn check_token_type(token_type: Option<&Value>) -> Result<(), Rejection> {
    const ACCEPTED: [&str; 3] = [
        "bearer",
        "access_token",
        "urn:ietf:params:oauth:token-type:access_token",
    ];
    match token_type {
        None => Ok(()),
        Some(Value::String(t)) if ACCEPTED.iter().any(|a| t.eq_ignore_ascii_case(a)) => Ok(()),
        Some(Value::String(_)) => Err(Rejection::WrongTokenUse),
        Some(_) => Err(Rejection::BadClaims),
    }
}

/// `iss` is optional in an answer: absent, the token is the issuer's whose endpoint answered.
/// Present, it must be one of that issuer's names.
pub(super) fn settle_issuer(
    payload: &mut Payload,
    canonical: &str,
    accepted: &[String],
) -> Result<(), Rejection> {
    match &payload.iss {
        None => {
            payload.iss = Some(Slot::Str(canonical.to_owned()));
            Ok(())
        }
        Some(Slot::Str(iss)) if accepted.iter().any(|a| a == iss) => Ok(()),
        Some(Slot::Str(_)) => Err(Rejection::UnknownIssuer),
        Some(_) => Err(Rejection::BadClaims),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_boolean_active_is_an_answer() {
        for body in [
            &br#"{"active":"true"}"#[..],
            br#"{"active":1}"#,
            br#"{}"#,
            br#"[]"#,
            b"not json",
            br#"{"active":true,"active":true}"#,
        ] {
            assert!(
                matches!(read(body), Err(CallOutcome::BadResponse)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            read(br#"{"active":false}"#),
            Ok(Reading::Inactive)
        ));
        assert!(matches!(
            read(br#"{"active":true,"sub":"s"}"#),
            Ok(Reading::Active { .. })
        ));
    }

    #[test]
    fn refresh_and_odd_token_types_are_refused() {
        assert_eq!(check_token_type(None), Ok(()));
        assert_eq!(check_token_type(Some(&Value::from("Bearer"))), Ok(()));
        assert_eq!(
            check_token_type(Some(&Value::from("refresh_token"))),
            Err(Rejection::WrongTokenUse)
        );
        assert_eq!(
            check_token_type(Some(&Value::from(1))),
            Err(Rejection::BadClaims)
        );
    }

    #[test]
    fn a_foreign_issuer_is_refused() {
        let accepted = vec!["https://a".to_owned()];
        let mut p = Payload::default();
        assert_eq!(settle_issuer(&mut p, "https://a", &accepted), Ok(()));
        assert_eq!(p.iss, Some(Slot::Str("https://a".into())));
        p.iss = Some(Slot::Str("https://b".into()));
        assert_eq!(
            settle_issuer(&mut p, "https://a", &accepted),
            Err(Rejection::UnknownIssuer)
        );
    }
}
