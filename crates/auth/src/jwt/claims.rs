//! The claims of a verified token, typed strictly: a claim of the wrong JSON type makes the
//! whole token invalid rather than being read as absent.

use crate::jwt::payload::{Payload, Slot};
use crate::rejection::Rejection;
use serde_json::{Map, Value};

/// Seconds since the epoch. RFC 7519 allows fractions; they are truncated.
pub type NumericDate = i64;

#[derive(Debug, Clone, PartialEq)]
/// The typed claims of a verified token.
pub struct Claims {
    /// The issuer.
    pub iss: String,
    /// The subject.
    pub sub: String,
    /// Expiry; required.
    pub exp: NumericDate,
    /// Not before.
    pub nbf: Option<NumericDate>,
    /// Issued at.
    pub iat: Option<NumericDate>,
    /// When the user authenticated.
    pub auth_time: Option<NumericDate>,
    /// Cognito: `access` or `id`.
    pub token_use: Option<String>,
    /// Cognito access tokens name their app client here.
    pub client_id: Option<String>,
    /// A string or an array of strings in the token; always a list here.
    pub aud: Vec<String>,
    /// From the space-separated `scope` string (or an `scp` array, as some issuers send).
    pub scopes: Vec<String>,
    /// The token's id, for revocation.
    pub jti: Option<String>,
    /// Cognito: the id shared by every token of one refresh session.
    pub origin_jti: Option<String>,
    /// `username`, or Cognito's `cognito:username`.
    pub username: Option<String>,
    /// The subject's email address, if the issuer sends it.
    pub email: Option<String>,
    /// Authentication methods (`amr`, RFC 8176), for MFA policy.
    pub amr: Vec<String>,
    /// The claims not typed above, as sent: provider-specific ones (groups, custom MFA claims).
    pub raw: Map<String, Value>,
}

impl Claims {
    /// Types the registered and Cognito claims of a payload whose signature has been checked;
    /// what is not typed stays in `raw`. A claim of the wrong JSON type is an invalid token.
    pub fn from_payload(p: Payload) -> Result<Self, Rejection> {
        let mut raw = p.raw;
        let exp = match p.exp {
            None => return Err(Rejection::MissingExp),
            Some(v) => date(&v)?,
        };
        let username = match p.username.map(string).transpose()? {
            Some(u) => Some(u),
            None => take(&mut raw, "cognito:username", string)?,
        };
        let scopes = match p.scope.map(string).transpose()? {
            Some(s) => split_scopes(&s),
            // Entra sends `scp` as a space-separated string, Okta as an array.
            None => take(&mut raw, "scp", |v| match v {
                Slot::Str(s) => Ok(split_scopes(&s)),
                other => string_list(other),
            })?
            .unwrap_or_default(),
        };
        Ok(Claims {
            iss: required_string(p.iss)?,
            sub: subject(p.sub)?,
            exp,
            nbf: p.nbf.as_ref().map(date).transpose()?,
            iat: p.iat.as_ref().map(date).transpose()?,
            auth_time: p.auth_time.as_ref().map(date).transpose()?,
            token_use: p.token_use.map(string).transpose()?,
            client_id: p.client_id.map(string).transpose()?,
            aud: p.aud.map(string_or_list).transpose()?.unwrap_or_default(),
            scopes,
            jti: p.jti.map(string).transpose()?,
            origin_jti: p.origin_jti.map(string).transpose()?,
            username,
            email: p.email.map(string).transpose()?,
            amr: p.amr.map(string_list).transpose()?.unwrap_or_default(),
            raw,
        })
    }

    /// A list-of-strings claim by name (such as `cognito:groups`); absent is empty, any other
    /// type is an invalid token.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, Rejection> {
        match self.raw.get(name) {
            None => Ok(Vec::new()),
            Some(v) => string_list(Slot::from(v)),
        }
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn split_scopes(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A fallback claim left in `raw`, taken out and typed when it is used.
fn take<T>(
    raw: &mut Map<String, Value>,
    name: &str,
    f: impl Fn(Slot) -> Result<T, Rejection>,
) -> Result<Option<T>, Rejection> {
    raw.remove(name).map(|v| f(Slot::from(&v))).transpose()
}

/// OpenID Connect Core 1.0, section 2: `sub` "MUST NOT exceed 255 ASCII characters".
pub const MAX_SUB_BYTES: usize = 255;

/// A longer `sub` is nothing a conforming provider issues, and no user can be stored under it:
/// the token is invalid rather than a failure further on.
fn subject(slot: Option<Slot>) -> Result<String, Rejection> {
    let sub = required_string(slot)?;
    if sub.len() > MAX_SUB_BYTES {
        return Err(Rejection::BadClaims);
    }
    Ok(sub)
}

fn required_string(slot: Option<Slot>) -> Result<String, Rejection> {
    match slot.map(string).transpose()? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(Rejection::BadClaims),
    }
}

fn string(v: Slot) -> Result<String, Rejection> {
    match v {
        Slot::Str(s) => Ok(s),
        _ => Err(Rejection::BadClaims),
    }
}

fn string_list(v: Slot) -> Result<Vec<String>, Rejection> {
    match v {
        Slot::Strings(items) => Ok(items),
        _ => Err(Rejection::BadClaims),
    }
}

fn string_or_list(v: Slot) -> Result<Vec<String>, Rejection> {
    match v {
        Slot::Str(s) => Ok(vec![s]),
        other => string_list(other),
    }
}

/// A NumericDate: a JSON number (not a string, not a bool) within a sane range.
fn date(v: &Slot) -> Result<NumericDate, Rejection> {
    const MAX: f64 = 253_402_300_799.0; // 9999-12-31T23:59:59Z
    match *v {
        Slot::Int(i) if (0..=MAX as i64).contains(&i) => Ok(i),
        Slot::Float(f) if f.is_finite() && (0.0..=MAX).contains(&f) => Ok(f.trunc() as i64),
        _ => Err(Rejection::BadClaims),
    }
}

impl From<&Value> for Slot {
    /// The slot the payload parser would have made of this value.
    fn from(v: &Value) -> Self {
        match v {
            Value::String(s) => Slot::Str(s.clone()),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Slot::Int(i),
                None => n.as_f64().map_or(Slot::Other, Slot::Float),
            },
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map_or(Slot::Other, Slot::Strings),
            Value::Null | Value::Bool(_) | Value::Object(_) => Slot::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Claims, Rejection> {
        Claims::from_payload(Payload::parse(s.as_bytes())?)
    }

    #[test]
    fn cognito_access_token_claims() {
        let c = parse(
            r#"{"iss":"https://i","sub":"s","exp":2000000000,"iat":1999999000.5,"token_use":"access",
               "client_id":"c","scope":"openid  read","cognito:groups":["g1"],"username":"u","jti":"j"}"#,
        )
        .expect("valid");
        assert_eq!((c.exp, c.iat), (2_000_000_000, Some(1_999_999_000)));
        assert_eq!(c.scopes, ["openid", "read"]);
        assert_eq!(c.string_list("cognito:groups"), Ok(vec!["g1".to_owned()]));
        assert_eq!(c.username.as_deref(), Some("u"));
        assert!(c.aud.is_empty());
    }

    #[test]
    fn missing_and_mistyped_claims() {
        assert_eq!(
            parse(r#"{"iss":"i","sub":"s"}"#),
            Err(Rejection::MissingExp)
        );
        for bad in [
            r#"{"iss":"i","sub":"s","exp":"2000000000"}"#,
            r#"{"iss":"i","sub":"s","exp":true}"#,
            r#"{"iss":"i","sub":"s","exp":-1}"#,
            r#"{"iss":"i","sub":"s","exp":1e300}"#,
            r#"{"iss":"i","sub":"s","exp":1,"nbf":"0"}"#,
            r#"{"iss":"i","sub":"s","exp":1,"aud":[1]}"#,
            r#"{"iss":"i","sub":"s","exp":1,"token_use":["access"]}"#,
            r#"{"iss":"i","sub":"s","exp":1,"scope":["a"]}"#,
            r#"{"iss":"i","sub":5,"exp":1}"#,
            r#"{"iss":"i","sub":"","exp":1}"#,
            &format!(r#"{{"iss":"i","sub":"{}","exp":1}}"#, "s".repeat(256)),
            r#"{"iss":"i","exp":1}"#,
        ] {
            assert_eq!(parse(bad).map(|_| ()), Err(Rejection::BadClaims), "{bad}");
        }
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"cognito:groups":"admin"}"#).expect("parses");
        assert_eq!(c.string_list("cognito:groups"), Err(Rejection::BadClaims));
    }

    #[test]
    fn scp_string_or_list() {
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"scp":"read  write"}"#).expect("valid");
        assert_eq!(c.scopes, ["read", "write"]);
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"scp":["read","write"]}"#).expect("valid");
        assert_eq!(c.scopes, ["read", "write"]);
        assert_eq!(
            parse(r#"{"iss":"i","sub":"s","exp":1,"scp":[1]}"#).map(|_| ()),
            Err(Rejection::BadClaims)
        );
    }

    #[test]
    fn aud_string_or_list() {
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"aud":"api"}"#).expect("valid");
        assert_eq!(c.aud, ["api"]);
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"aud":["a","b"]}"#).expect("valid");
        assert_eq!(c.aud, ["a", "b"]);
    }
}
